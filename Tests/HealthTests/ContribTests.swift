import Foundation
import Health
import Messaging
import TestSupport
import Testing

/// `contrib/`: the Prometheus alert rules and the Grafana dashboard name only metrics we export,
/// and `promtool` accepts the rules where it is installed (Debian's `prometheus` package).
@Suite struct ContribTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let rules = root.appendingPathComponent("contrib/prometheus/marlise-alerts.yml").path
    static let dashboard = root.appendingPathComponent("contrib/grafana/marlise-dashboard.json").path
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Every `marlise_…` name the rules and the dashboard use, and those `/metrics` exports.
    @Test func contribNamesOnlyExportedMetrics() throws {
        let sample = HistorySample(
            time: 1,
            dspLoad: 0.1,
            xruns: 0,
            services: [
                ServiceSample(name: "jack", state: .healthy, cpuSeconds: 1, residentBytes: 1),
                ServiceSample(name: "session", state: .healthy, rpc: RPCTotals()),
            ]
        )
        var jack = ServiceHealth(name: "jack", state: .healthy)
        jack.uptime = 1
        jack.probe = ProbeReport(ok: true, latency: .milliseconds(1), at: Date(), error: nil)
        // A histogram's series are its name with `_bucket`, `_sum` and `_count`.
        let exported = Set(
            PrometheusText.render(HealthReport(uptime: 1, services: [jack]), latest: sample)
                .split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
                .flatMap { line -> [String] in
                    let parts = line.split(separator: " ").map(String.init)
                    return parts[3] == "histogram" ? ["_bucket", "_sum", "_count"].map { parts[2] + $0 } : [parts[2]]
                }
        )
        for path in [Self.rules, Self.dashboard] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let used = Set(
                text.matches(of: /marlise_[a-z_]+/).map { String($0.output) }.filter { $0 != "marlise_fleet" }
            )
            #expect(!used.isEmpty)
            #expect(used.isSubset(of: exported), "\(path) uses \(used.subtracting(exported))")
        }
        let dashboard = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: Self.dashboard)))
        #expect((dashboard["panels"]?.arrayValue?.count ?? 0) >= 6)
    }

    @Test(.enabled(if: promtool != nil, "promtool is not installed")) func promtoolAcceptsTheRules() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.promtool))
        process.arguments = ["check", "rules", Self.rules]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
