import Foundation
import Messaging
import TestSupport
import Testing

let amp = "http://plugin.org.uk/swh-plugins/amp"
let overdrive = "http://drobilla.net/plugins/mda/Overdrive"

/// The default stack under the real supervisor, driven by a ZeroMQ client as the web client would.
@Suite(.serialized, .jackAlone, .timeLimit(.minutes(10))) struct EndToEndTests {
    @Test func aPedalboardFromClientToHost() async throws {
        let stack = try await Stack()
        do {
            try await pedalboardFromClientToHost(stack)
        } catch {
            Issue.record("supervisor: \(stack.log("supervisor").suffix(2000))")
            _ = try? await stack.stop()
            throw error
        }
        #expect(try await stack.stop() == 0)
    }

    private func pedalboardFromClientToHost(_ stack: Stack) async throws {
        try await stack.call("create_pedalboard", ["name": "Stage"])
        let ampResult = try await stack.call("add_plugin", ["uri": .string(amp), "x": 10, "y": 20])
        let odResult = try await stack.call("add_plugin", ["uri": .string(overdrive)])
        let ampID = try #require(ampResult["instance_id"]?.stringValue)
        let odID = try #require(odResult["instance_id"]?.stringValue)
        let ampNumber = try #require(ampResult["plugin"]?["host_instance"]?.intValue)
        let odNumber = try #require(odResult["plugin"]?["host_instance"]?.intValue)
        #expect(ampNumber != odNumber)

        for (source, target) in [
            ("system:capture_1", "\(ampID):input"), ("\(ampID):output", "\(odID):left_in"),
            ("\(odID):left_out", "system:playback_1"),
        ] {
            try await stack.call("create_connection", ["source": .string(source), "target": .string(target)])
        }
        try await stack.call("set_parameter", ["instance_id": .string(ampID), "parameter": "gain", "value": 6])
        try await stack.call("set_parameter", ["instance_id": .string(odID), "parameter": "drive", "value": 0.25])
        try await stack.call("create_snapshot", ["name": "Loud"])
        try await stack.call("save_pedalboard")

        // The host itself, asked through the bridge, holds what the client set.
        #expect(try await stack.host("param_get \(ampNumber) gain").contains("6.0000"))
        #expect(try await stack.host("param_get \(odNumber) drive").contains("0.2500"))
        let listed = try await stack.call("list_connections")
        #expect(listed.jsonText.contains("capture_1") && listed.jsonText.contains("playback_1"))
        let saved = try await stack.call("get_pedalboard_list")
        #expect(saved.jsonText.contains("Stage"))
        let files = try FileManager.default.contentsOfDirectory(
            atPath: stack.data.appendingPathComponent("pedalboards").path
        )
        // Saved as a MOD bundle, whole: manifest and graph both there.
        let bundle = try #require(files.first { $0.hasSuffix(".pedalboard") })
        let inside = try FileManager.default.contentsOfDirectory(
            atPath: stack.data.appendingPathComponent("pedalboards/\(bundle)").path
        )
        #expect(inside.contains("manifest.ttl") && inside.contains { $0.hasSuffix(".ttl") && $0 != "manifest.ttl" })

        let (status, report) = try await stack.health()
        #expect(status == 200 && report["status"] == "healthy")
        let table = try await marlisectl(["status", "--supervisor", "tcp://127.0.0.1:\(stack.ports.supervisor)"])
        for service in ["jack", "host", "bridge", "session"] {
            #expect(table.contains(service), "marlisectl status: \(table)")
        }
        #expect(!table.contains("failed") && !table.contains("starting"), "marlisectl status: \(table)")
        // The log folder is asked of the running supervisor, wherever marlisectl runs from.
        let log = try await marlisectl(["logs", "session", "--supervisor", "tcp://127.0.0.1:\(stack.ports.supervisor)"])
        #expect(log.contains("session service listening"), "marlisectl logs session: \(log.prefix(300))")
    }
}

/// Runs marlisectl and returns what it printed.
func marlisectl(_ arguments: [String]) async throws -> String {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent(
        "marlisectl-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
    )
    defer { try? FileManager.default.removeItem(at: output) }
    let process = try await TestProcess(product("marlisectl"), arguments, log: output)
    try await process.stop(0)
    return readTextFile(atPath: output.path) ?? ""
}
