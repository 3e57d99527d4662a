public import Messaging

/// The health object as a table for people: service, state, pid, uptime, restarts, last exit.
public enum HealthTable {
    /// Renders a health object (as `health_check` returns it); lines end with a newline.
    public static func render(_ health: JSONValue) -> String {
        var rows = [["SERVICE", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT", "MESSAGE"]]
        for service in health["services"]?.arrayValue ?? [] {
            let exit: String
            if let lastExit = service["last_exit"], !lastExit.isNull {
                exit = lastExit["signal"]?.stringValue ?? "code \(lastExit["code"]?.intValue ?? 0)"
            } else {
                exit = "-"
            }
            rows.append([
                service["name"]?.stringValue ?? "?", service["state"]?.stringValue ?? "?",
                service["pid"]?.intValue.map(String.init) ?? "-", service["uptime_s"]?.doubleValue.map(duration) ?? "-",
                String(service["restarts"]?.intValue ?? 0), exit, service["message"]?.stringValue ?? "",
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var text =
            "stack: \(health["status"]?.stringValue ?? "?"), up \(health["uptime_s"]?.doubleValue.map(duration) ?? "?")\n"
        for row in rows {
            let cells = row.indices.map { column in
                column == row.count - 1
                    ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            var line = cells.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    private static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        if whole < 86400 { return "\(whole / 3600)h\(whole % 3600 / 60)m" }
        return "\(whole / 86400)d\(whole % 86400 / 3600)h"
    }
}
