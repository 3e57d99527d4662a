import Bridge
import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An LV2 host process speaking mod-host's protocol: our `marlise-host`, or a real `mod-host`.
struct LV2HostProcess {
    let process: TestProcess
    let commandPort: Int
    let feedbackPort: Int
    let log: URL

    /// A real mod-host on PATH, if there is one.
    static let modHost: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/mod-host" }.first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Starts `executable` on `ports` (free ones when nil) and returns once it listens.
    init(_ executable: String, server: String, ports: (Int, Int)? = nil) async throws {
        commandPort = try ports?.0 ?? freePort()
        feedbackPort = try ports?.1 ?? freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-e2e-host-\(commandPort).log")
        let isModHost = executable.hasSuffix("/mod-host")
        let arguments =
            isModHost
            ? ["-n", "-p", "\(commandPort)", "-f", "\(feedbackPort)"]
            : ["-p", "\(commandPort)", "-f", "\(feedbackPort)", "--jack-server", server]
        process = try await TestProcess(executable, arguments, environment: ["JACK_DEFAULT_SERVER": server], log: log)
        let (log, process) = (log, process)
        // mod-host serves one client at a time, so it is not probed with a connection: it says when
        // it listens. marlise-host serves several, and is probed.
        let port = commandPort
        try await eventually(within: .seconds(20)) {
            guard process.process.isRunning else { throw TestFailure("host exited: \(Self.text(log))") }
            if isModHost {
                guard Self.text(log).contains("mod-host ready!") else { throw TestFailure("mod-host not ready") }
            } else {
                _ = try await onThread { try HostConnection(port: port) }
            }
        }
    }

    static func text(_ log: URL) -> String { readTextFile(atPath: log.path) ?? "" }
}

/// The bridge against a real LV2 host on a real jackd, with the real swh amp: issue item 7.
/// As ``BridgeAudioTests``, the time limit covers the wait for the process's other JACK tests.
@Suite(.serialized, .timeLimit(.minutes(10))) struct BridgeEndToEndTests {
    static let amp = BridgeRequestTests.amp

    @Test func againstMarliseHost() async throws {
        try await withJackServer { server in
            try await Self.exercise(executable: product("marlise-host"), server: server)
        }
    }

    @Test(.enabled(if: LV2HostProcess.modHost != nil, "no mod-host on PATH"))
    func againstModHost() async throws {
        try await withJackServer { server in
            try await Self.exercise(executable: LV2HostProcess.modHost ?? "", server: server)
        }
    }

    static func exercise(executable: String, server: JackServer) async throws {
        var host = try await LV2HostProcess(executable, server: server.name)
        let harness = try await BridgeHarness(
            jackServer: server.name,
            hostPorts: (host.commandPort, host.feedbackPort)
        )
        do {
            try await harness.waitFor(status: "healthy")
            try await run(harness, host: &host, executable: executable, server: server)
        } catch {
            await harness.stop()
            try? await host.process.stop(SIGKILL)
            throw TestFailure("\(error)\nhost log:\n\(LV2HostProcess.text(host.log))")
        }
        await harness.stop()
        try await host.process.stop(SIGTERM)
    }

    private static func run(
        _ harness: BridgeHarness,
        host: inout LV2HostProcess,
        executable: String,
        server: JackServer
    ) async throws {
        // Two plugins are two instances (C++ bug 3).
        let first = try await harness.call(
            ["action": "plugin", "method": "load_plugin", "uri": .string(amp), "parameters": ["gain": 6]]
        )
        let firstID = try #require(first["instance_id"]?.stringValue, "\(first.jsonText)")
        let second = try await harness.call(["action": "plugin", "method": "load_plugin", "uri": .string(amp)])
        let secondID = try #require(second["instance_id"]?.stringValue, "\(second.jsonText)")
        #expect(first["plugin"]?["modhost_instance"] == 0)
        #expect(second["plugin"]?["modhost_instance"] == 1)

        // get_parameter is the host's value (C++ bug 5): the host clamps 1000 to 70.
        let get: JSONValue = [
            "action": "plugin", "method": "get_parameter", "instance_id": .string(firstID),
            "parameter": "gain",
        ]
        #expect(try await harness.call(get)["value"] == 6.0)
        let set = try await harness.call(
            [
                "action": "plugin", "method": "set_parameter", "instance_id": .string(firstID), "parameter": "gain",
                "value": 1000,
            ]
        )
        #expect(set["success"] == true)
        #expect(try await harness.call(get)["value"] == 70.0)
        // mod-host's errors are errors (C++ bug 4).
        let wrong = try await harness.call(
            [
                "action": "plugin", "method": "set_parameter", "instance_id": .string(secondID), "parameter": "drive",
                "value": 1,
            ]
        )
        #expect(wrong["modhost_error"] == "ERR_LV2_INVALID_PARAM_SYMBOL", "\(wrong.jsonText)")

        // The plugins' JACK ports, wired by the bridge's own JACK client, named by instance id.
        #expect(try await harness.call(BridgeAudioTests.audio("init_jack"))["success"] == true)
        let wire = try await harness.call(
            BridgeAudioTests.audio(
                "connect_jack_ports",
                ["port1": "system:capture_1", "port2": .string("\(firstID):input")]
            )
        )
        #expect(wire["success"] == true, "\(wire.jsonText)")
        let chain = try await harness.call(["command": .string("connect \(firstID):output \(secondID):input")])
        #expect(chain["success"] == true, "\(chain.jsonText)")

        // Feedback flows as topic events (C++ bugs 1, 10, 13).
        #expect(try await harness.call(#"{"command":"transport 1 4 120"}"#)["success"] == true)
        _ = try await harness.call(#"{"command":"cpu_load"}"#)
        let transport = try JSONValue.parsed(try await harness.nextEvent("transport")[1])
        #expect(transport["data"]?["rolling"] == true)
        #expect(try await harness.call(#"{"command":"transport 0 4 120"}"#)["success"] == true)
        _ = try await harness.call(#"{"command":"cpu_load"}"#)
        let stopped = try JSONValue.parsed(try await harness.nextEvent("transport")[1])
        #expect(stopped["data"]?["rolling"] == false, "a second batch arrives: output_data_ready was sent")

        // Unloading the second leaves the first (C++ bug 3).
        let unload = try await harness.call([
            "action": "plugin", "method": "unload_plugin", "instance_id": .string(secondID),
        ])
        #expect(unload["status"] == "ok")
        #expect(try await harness.call(get)["value"] == 70.0, "the first plugin is still there")
        let ports = try await harness.call(
            BridgeAudioTests.audio("get_jack_port_alias", ["port_name": .string("\(secondID):input")])
        )
        #expect(ports["success"] == false, "effect_1 is gone from JACK")

        // The host dies: calls fail fast; it restarts on the same ports: the bridge reconnects and
        // reports the instance the new host does not have.
        let ports2 = (host.commandPort, host.feedbackPort)
        try await host.process.stop(SIGKILL)
        try await harness.waitFor(status: "unhealthy")
        #expect(try await harness.call(get)["code"] == "HOST_UNAVAILABLE")
        host = try await LV2HostProcess(executable, server: server.name, ports: ports2)
        try await harness.waitFor(status: "healthy")
        let reconnected = try JSONValue.parsed(try await harness.nextEvent("host_reconnected")[1])
        #expect(reconnected["data"]?["lost_instances"]?.arrayValue?.first?["instance_id"] == .string(firstID))
        let again = try await harness.call(["action": "plugin", "method": "load_plugin", "uri": .string(amp)])
        #expect(again["plugin"]?["modhost_instance"] == 0, "\(again.jsonText)")
    }
}
