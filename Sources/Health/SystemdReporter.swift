import Locking

#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd what the supervisor's health reports say: `READY=1` once the stack first came up,
/// a `STATUS=` line on every change, `STOPPING=1` on the way down. A no-op outside systemd.
public final class SystemdReporter: Sendable {
    private struct State {
        var readySent = false
        var lastStatus = ""
    }

    private let notifier: SystemdNotifier
    private let state = Locked(State())

    public init(notifier: SystemdNotifier = SystemdNotifier()) { self.notifier = notifier }

    /// Feed every report here (the supervisor's change handler).
    public func update(_ report: HealthReport) {
        let line = Self.statusLine(report)
        let send: String? = state.withLock { state in
            var assignments: [String] = []
            if line != state.lastStatus {
                state.lastStatus = line
                assignments.append("STATUS=\(line)")
            }
            // Ready once every service has settled on the first start: not before.
            if !state.readySent, report.phase == nil {
                state.readySent = true
                assignments.insert("READY=1", at: 0)
            }
            return assignments.isEmpty ? nil : assignments.joined(separator: "\n")
        }
        if let send { notifier.notify(send) }
    }

    public func stopping() { notifier.notify("STOPPING=1") }

    /// `RELOADING=1` with the monotonic timestamp systemd 253+ expects (older ones ignore it).
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(Int(now.tv_sec) * 1_000_000 + Int(now.tv_nsec) / 1000)")
    }

    /// `READY=1` again after a reload.
    public func reloaded() { notifier.notify("READY=1") }

    /// One line for `systemctl status`: `4/4 healthy · bridge restarted 2× · up 3h`.
    public static func statusLine(_ report: HealthReport) -> String {
        let healthy = report.services.filter { $0.state == .healthy }.count
        var parts = ["\(healthy)/\(report.services.count) healthy"]
        if report.status != .healthy { parts[0] += " (\(report.status.rawValue))" }
        for service in report.services where service.state != .healthy {
            // Why a service failed is what an operator reading `systemctl status` needs first.
            let why = service.state == .failed ? service.message.map { ": \($0.prefix(80))" } ?? "" : ""
            parts.append("\(service.name) \(service.state.rawValue)\(why)")
        }
        for service in report.services where service.restarts > 0 {
            parts.append("\(service.name) restarted \(service.restarts)×")
        }
        parts.append("up \(duration(report.uptime))")
        return parts.joined(separator: " · ")
    }

    private static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<60: "\(Int(seconds))s"
        case ..<3600: "\(Int(seconds / 60))m"
        case ..<86400: "\(Int(seconds / 3600))h"
        default: "\(Int(seconds / 86400))d"
        }
    }
}
