import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `marlise-bridge` executable: configured by the C++ bridge's environment, stopped by SIGTERM.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BridgeProcessTests {
    @Test func servesTheEnvironmentsEndpointsAndStopsOnSIGTERM() async throws {
        let state = FakeModHostState()
        let peer = try ScriptedModHost { state.respond($0) }
        defer { peer.crash() }
        let (rep, pub, health) = (try freePort(), try freePort(), try freePort())
        let bridge = try await TestProcess(
            product("marlise-bridge"),
            [],
            environment: [
                "MOD_HOST_HOST": "127.0.0.1", "MOD_HOST_PORT": String(peer.commandPort),
                "MOD_HOST_FEEDBACK_PORT": String(peer.feedbackPort), "MODHOST_BRIDGE_REP": "tcp://127.0.0.1:\(rep)",
                "MODHOST_BRIDGE_PUB": "tcp://127.0.0.1:\(pub)", "MODHOST_BRIDGE_HEALTH": "tcp://127.0.0.1:\(health)",
                "JACK_DEFAULT_SERVER": "marlise-bridge-tests-none",
            ]
        )
        let reply = try await eventually {
            // A REQ socket that got no answer cannot send again: a fresh one per attempt.
            let probe = try RawPeer(.req, connectTo: "tcp://127.0.0.1:\(health)")
            try await probe.send([Data(#"{"action":"health"}"#.utf8)])
            let frame = try await probe.receive(timeout: .milliseconds(500))
            await probe.close()
            let health = try JSONValue.parsed(frame?.first)
            guard health["status"] == "healthy" else { throw TestFailure("health: \(health.jsonText)") }
            return health
        }
        #expect(reply["command_connected"] == true)
        let requests = try RawPeer(.req, connectTo: "tcp://127.0.0.1:\(rep)")
        try await requests.send([Data(#"{"command":"cpu_load"}"#.utf8)])
        #expect(try JSONValue.parsed(try await requests.receive()?.first)["raw"] == "resp 0 1.1418")
        await requests.close()

        try await bridge.stop(SIGTERM)
        #expect(bridge.process.terminationStatus == 0)
        #expect(bridge.process.terminationReason == .exit)
    }

    @Test func aBadSettingIsNamedAndTheProcessExits() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-bridge-bad-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let bridge = try await TestProcess(
            product("marlise-bridge"),
            [],
            environment: ["MOD_HOST_PORT": "70000"],
            log: log
        )
        try await bridge.stop(0)
        #expect(bridge.process.terminationStatus != 0)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("MOD_HOST_PORT=70000"), "\(output)")
    }
}
