import Foundation
import Messaging
import TestSupport
import Testing

/// `units/marlise-supervisor.service`, checked by systemd's own verifier where it is installed.
@Suite(.timeLimit(.minutes(1))) struct UnitFileTests {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("units/marlise-supervisor.service")

    static func settings() throws -> [String: [String]] {
        var settings: [String: [String]] = [:]
        for line in try String(contentsOf: source, encoding: .utf8).split(separator: "\n") {
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
        }
        return settings
    }

    @Test func declaresWhatTheSupervisorNeeds() throws {
        let unit = try Self.settings()
        #expect(unit["Type"] == ["notify"])
        #expect(unit["NotifyAccess"] == ["main"])
        #expect(unit["WatchdogSec"] != nil)
        #expect(unit["Restart"] == ["on-failure"])
        #expect(unit["StartLimitIntervalSec"] != nil && unit["StartLimitBurst"] != nil)
        #expect(unit["LimitRTPRIO"] != nil && unit["LimitMEMLOCK"] != nil)
        #expect(unit["Group"] == ["audio"])
        #expect(unit["RestrictRealtime"] == nil, "JACK needs real-time scheduling")
        // Four children stopped one after another, 5 s each by default, must fit in the stop timeout.
        #expect((unit["TimeoutStopSec"]?.first.flatMap { Int($0) } ?? 0) > 4 * 5)
    }

    @Test func systemdAnalyzeVerifiesIt() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // verify checks that ExecStart exists: point it at the binary just built.
        let text = try String(contentsOf: Self.source, encoding: .utf8)
            .replacingOccurrences(of: "/opt/marlise/bin/marlise-supervisor", with: product("marlise-supervisor"))
        let unit = folder.appendingPathComponent("marlise-supervisor.service")
        try text.write(to: unit, atomically: true, encoding: .utf8)
        let log = folder.appendingPathComponent("verify.out")
        let verify = try await TestProcess("/usr/bin/systemd-analyze", ["verify", unit.path], log: log)
        try await verify.stop(0)
        let output = readTextFile(atPath: log.path) ?? ""
        #expect(verify.process.terminationStatus == 0, "\(output)")
        #expect(!output.contains("marlise-supervisor.service"), "warnings: \(output)")
    }
}
