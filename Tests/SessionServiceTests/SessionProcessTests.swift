import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `marlise-session` as a real process, killed with SIGKILL in the middle of a call.
@Suite(.serialized, .timeLimit(.minutes(1))) struct SessionProcessTests {
    @Test func aClientRidesOutAKilledServiceAndItsReplacement() async throws {
        // The test plays the bridge, so it sees exactly when a health_check is being handled.
        let bridge = try RawPeer(.router, bindTo: "tcp://127.0.0.1:*")
        let rpc = "tcp://127.0.0.1:\(try freePort())"
        let arguments = ["--rpc", rpc, "--pub", "tcp://127.0.0.1:*"]
        let environment = ["MODHOST_BRIDGE_ENDPOINT": bridge.endpoint]
        let logs = FileManager.default.temporaryDirectory
        let first = try await TestProcess(
            product("marlise-session"),
            arguments,
            environment: environment,
            log: logs.appendingPathComponent("session-first-\(getpid()).log")
        )

        let client = RPCClient(
            RPCClientConfiguration(
                endpoint: rpc,
                timeout: .seconds(3),
                retry: RetryPolicy(attempts: 10, delay: .milliseconds(100))
            )
        )
        #expect(try await client.call("echo", params: ["up": true]) == ["up": true])

        let call = Task { try await client.call("health_check") }
        let probe = try #require(try await bridge.receive())
        #expect(String(decoding: probe.last ?? Data(), as: UTF8.self).contains("get_jack_sample_rate"))
        try await first.stop(SIGKILL)  // mid-call: the request is in the service, its reply never comes

        let second = try await TestProcess(
            product("marlise-session"),
            arguments,
            environment: environment,
            log: logs.appendingPathComponent("session-second-\(getpid()).log")
        )
        // The retried health_check reaches the new process, which asks the bridge again: answer it.
        let retried = try #require(try await bridge.receive())
        try await bridge.send(Array(retried.dropLast()) + [Data(text: #"{"success":true,"sample_rate":48000}"#)])

        let health = try await call.value
        #expect(health["success"] == true)
        #expect(health["bridge_connected"] == true)

        try await second.stop(SIGTERM)
        #expect(second.process.terminationReason == .exit)
        #expect(second.process.terminationStatus == 0)
        await client.shutdown()
        await bridge.close()
    }
}
