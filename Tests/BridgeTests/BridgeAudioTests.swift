import Bridge
import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The audio methods, through the bridge's own JACK client, against a real jackd (dummy driver).
/// The time limit covers the wait for the process's other JACK tests (`withJackServer` runs one at
/// a time), which in a full run is most of it.
@Suite(.serialized, .timeLimit(.minutes(10))) struct BridgeAudioTests {
    static func audio(_ method: String, _ fields: [String: JSONValue] = [:]) -> JSONValue {
        .object(fields.merging(["action": "audio", "method": .string(method)]) { $1 })
    }

    /// Bug 12: getters answered zeros or `null` with success before `init_jack`.
    @Test func gettersBeforeInitJackAreErrors() async throws {
        let harness = try await BridgeHarness()
        for method in ["get_jack_sample_rate", "get_jack_buffer_size", "get_jack_data", "reset_xruns"] {
            let reply = try await harness.call(Self.audio(method))
            #expect(reply["code"] == "AUDIO_UNAVAILABLE", "\(method) → \(reply.jsonText)")
        }
        let unknown = try await harness.call(Self.audio("nope"))
        #expect(unknown["error"] == "Audio command failed: Unknown audio command method: nope")
        let noServer = try await harness.call(Self.audio("init_jack"))
        #expect(noServer["code"] == "AUDIO_UNAVAILABLE", "no such JACK server: \(noServer.jsonText)")
        await harness.stop()
    }

    @Test func jackFormatPortsAndConnections() async throws {
        try await withJackServer { server in
            let harness = try await BridgeHarness(jackServer: server.name)
            #expect(try await harness.call(Self.audio("init_jack"))["success"] == true)
            #expect(try await harness.call(Self.audio("init_jack"))["success"] == true, "idempotent")
            #expect(try await harness.call(Self.audio("get_jack_sample_rate"))["sample_rate"] == 48000.0)
            #expect(try await harness.call(Self.audio("get_jack_buffer_size"))["buffer_size"] == 256)
            let data = try await harness.call(Self.audio("get_jack_data", ["with_transport": true]))
            #expect(data["xruns"]?.intValue != nil, "the dummy driver may count one at start")
            #expect(data["rolling"] == false)
            #expect(data["cpu_load"]?.doubleValue != nil)

            let capture = try await harness.call(
                Self.audio("get_jack_hardware_ports", ["is_audio": true, "is_output": false])
            )
            #expect(capture == ["system:capture_1", "system:capture_2"])
            let playback = try await harness.call(
                Self.audio("get_jack_hardware_ports", ["is_audio": true, "is_output": true])
            )
            #expect(playback == ["system:playback_1", "system:playback_2"])
            let missing = try await harness.call(Self.audio("get_jack_hardware_ports", ["is_audio": true]))
            #expect(missing["code"] == "INVALID_PARAMETERS")

            // Either order; a failure says why.
            let connect = Self.audio("connect_jack_ports", ["port1": "system:playback_1", "port2": "system:capture_1"])
            #expect(try await harness.call(connect)["success"] == true)
            let bad = try await harness.call(
                Self.audio("connect_jack_ports", ["port1": "system:capture_1", "port2": "nosuch:port"])
            )
            #expect(bad["success"] == false)
            #expect(bad["code"] == "AUDIO_ERROR")
            let reason = bad["error"]?.stringValue ?? ""
            #expect(reason.contains("nosuch:port"), "\(bad.jsonText)")
            let disconnect = Self.audio(
                "disconnect_jack_ports",
                ["port1": "system:capture_1", "port2": "system:playback_1"]
            )
            #expect(try await harness.call(disconnect)["success"] == true)
            #expect(try await harness.call(disconnect)["success"] == false, "not connected any more")
            #expect(
                try await harness.call(Self.audio("disconnect_all_jack_ports", ["port": "system:capture_1"]))["success"]
                    == true
            )
            let alias = try await harness.call(Self.audio("get_jack_port_alias", ["port_name": "system:capture_1"]))
            #expect(alias["alias"] != nil, "\(alias.jsonText)")
            #expect(try await harness.call(Self.audio("has_midi_broadcaster_input_port"))["has_port"] == false)
            #expect(try await harness.call(Self.audio("reset_xruns"))["success"] == true)

            #expect(
                try await harness.call(Self.audio("set_jack_buffer_size", ["size": 300]))["code"]
                    == "INVALID_PARAMETERS"
            )
            #expect(try await harness.call(Self.audio("set_jack_buffer_size", ["size": 512]))["buffer_size"] == 512)
            #expect(try await harness.call(Self.audio("set_jack_buffer_size", ["size": 256]))["buffer_size"] == 256)

            #expect(try await harness.call(Self.audio("close_jack"))["success"] == true)
            #expect(try await harness.call(Self.audio("get_jack_sample_rate"))["code"] == "AUDIO_UNAVAILABLE")
            await harness.stop()
        }
    }

    /// JACK's death is noticed and reported in health; the client reopens once JACK is back.
    @Test func jackDeathIsReportedAndTheClientReopens() async throws {
        try await withJackServer { server in
            let harness = try await BridgeHarness(jackServer: server.name)
            try await harness.waitFor(status: "healthy")
            #expect(try await harness.call(Self.audio("init_jack"))["success"] == true)
            try await server.kill()
            try await eventually {
                let health = try await harness.healthStatus()
                guard health["jack"]?["lost"] == true else { throw TestFailure("jack not lost: \(health.jsonText)") }
                #expect(health["status"] == "degraded")
            }
            #expect(try await harness.call(Self.audio("get_jack_sample_rate"))["code"] == "AUDIO_UNAVAILABLE")
            _ = try await harness.nextEvent("jack_state")

            let again = try await TestProcess(
                "/usr/bin/jackd",
                ["--no-realtime", "-n", server.name, "-d", "dummy", "-r", "48000", "-p", "256"],
                log: FileManager.default.temporaryDirectory.appendingPathComponent("\(server.name)-again.log")
            )
            do {
                try await eventually(within: .seconds(20)) {
                    let health = try await harness.healthStatus()
                    guard health["jack"]?["open"] == true else { throw TestFailure("not reopened: \(health.jsonText)") }
                    #expect(health["jack"]?["reopens"] == 1)
                    #expect(health["status"] == "healthy")
                }
                #expect(try await harness.call(Self.audio("get_jack_sample_rate"))["sample_rate"] == 48000.0)
            } catch {
                await harness.stop()
                try? await again.stop(SIGKILL)
                throw error
            }
            await harness.stop()
            try await again.stop(SIGTERM)
        }
    }
}
