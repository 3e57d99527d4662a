import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// The wire of §2: envelopes, both error levels, every malformed frame answered, events published,
/// health telling the truth.
@Suite(.timeLimit(.minutes(1))) struct WireTests {
    /// §2.5's table, every row, one after another on one running service, then a valid call.
    @Test func malformedFramesAreAnsweredAndTheServiceKeepsServing() async throws {
        let session = try await SessionHarness.start()
        let peer = try RawPeer(.dealer, connectTo: session.server.rpc.endpoint)
        let big =
            #"{"method":"echo","request_id":"big","params":{"blob":""# + String(repeating: "x", count: 2 << 20)
            + #""}}"#
        let cases: [(frames: [Data], code: String?)] = [
            ([Data(text: #"{"params":{}}"#)], "INVALID_REQUEST"),
            ([Data(text: #"{"method":"x","params":[1]}"#)], "INVALID_PARAMETERS"),
            ([Data(text: #"{"method":"x","params":null}"#)], "INVALID_PARAMETERS"),
            ([Data(text: "{not json")], "PARSE_ERROR"),
            ([Data()], "PARSE_ERROR"),
            ([Data([0xFF, 0xFE, 0x7B])], "PARSE_ERROR"),
            ([Data(text: "[1, 2]")], "INVALID_REQUEST"),
            ([Data(text: #""health_check""#)], "INVALID_REQUEST"),
            ([Data(text: "null")], "INVALID_REQUEST"),
            ([Data(text: #"{"method":["x"]}"#)], "INVALID_REQUEST"),
            ([Data(text: #"{"method":"echo"}"#), Data(text: "{}")], "INVALID_REQUEST"),
            ([Data(text: #"{"method":"no_such_method","request_id":7}"#)], "METHOD_NOT_FOUND"),
            ([Data(text: big)], nil),
            ([Data(repeating: 0x20, count: 17 << 20)], "MESSAGE_TOO_LARGE"),
        ]
        for (frames, code) in cases {
            try await peer.send([Data()] + frames)  // the empty delimiter a REQ client sends
            let reply = try #require(try await peer.receive())
            let body = try JSONValue.parsed(reply.last)
            if let code {
                #expect(body["code"] == .string(code), "\(body.jsonText.prefix(200))")
                #expect(body["error"]?.stringValue?.isEmpty == false)
                #expect(body["result"] == nil)
            } else {
                #expect(body["request_id"] == "big")
                #expect(body["result"]?["echo"]?["blob"]?.stringValue?.count == 2 << 20)
            }
            #expect(body["timestamp"]?.stringValue != nil)
        }
        let health = try await session.call("health_check")
        #expect(health["bridge_connected"] == false)
        await peer.close()
        await session.stop()
    }

    @Test func bothErrorLevelsCarryCodesAndTheRequestID() async throws {
        let session = try await SessionHarness.start()
        let peer = try RawPeer(.req, connectTo: session.server.rpc.endpoint)
        try await peer.send([Data(text: #"{"method":"frobnicate","params":{},"request_id":"r-1"}"#)])
        let envelope = try JSONValue.parsed(try await peer.receive()?.last)
        #expect(envelope["request_id"] == "r-1")
        #expect(envelope["error"] == "Method 'frobnicate' not found")
        #expect(envelope["code"] == "METHOD_NOT_FOUND")

        try await peer.send([Data(text: #"{"method":"load_plugin","params":{"uri":"urn:nope"},"request_id":"r-2"}"#)])
        let result = try JSONValue.parsed(try await peer.receive()?.last)
        #expect(result["request_id"] == "r-2")
        #expect(result["error"] == nil)
        #expect(result["result"]?["success"] == false)
        #expect(result["result"]?["code"] == "PLUGIN_NOT_FOUND")
        await peer.close()
        await session.stop()
    }

    @Test func healthReportsTheBridgeAndEveryUnreadableFile() async throws {
        let data = SessionHarness.makeDataDirectory()
        let store = try SessionStore(dataDirectory: data)
        try Data([0xFF, 0xFE]).write(to: URL(fileURLWithPath: "\(data)/pedalboards/binary.json"))
        try "[1".write(toFile: "\(data)/settings/banks.json", atomically: true, encoding: .utf8)
        try "{\"pedalboard\": ".write(toFile: "\(data)/session/current.json", atomically: true, encoding: .utf8)
        _ = store
        let session = try await SessionHarness.start(data: data)
        let health = try await session.call("health_check")
        #expect(health["healthy"] == false)
        #expect(health["bridge_connected"] == false)
        #expect(health["mod_host_connected"] == false)
        #expect(health["details"]?["storage_ok"] == false)
        let listed = health["details"]?["storage_problems"]?.arrayValue ?? []
        let problems = listed.compactMap(\.stringValue)
        #expect(problems.count >= 3, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("binary.json") })
        #expect(problems.contains { $0.hasPrefix("session/current.json") })
        #expect(problems.contains { $0.hasPrefix("settings/banks.json") })
        // The unreadable session file was moved aside, not overwritten.
        let kept = try FileManager.default.contentsOfDirectory(atPath: "\(data)/session")
        #expect(kept.contains { $0.hasPrefix("current.json.corrupt-") })
        let metrics = try await session.call("get_metrics")
        #expect(metrics["bridge_connected"] == false)
        #expect((metrics["memory_mb"]?.doubleValue ?? 0) > 0)
        await session.stop()
    }

    /// Every audio-system method needs the bridge: with none, each answers BRIDGE_ERROR at once.
    @Test func audioMethodsFailFastWithoutTheBridge() async throws {
        let session = try await SessionHarness.start()
        let clock = ContinuousClock()
        let started = clock.now
        for (method, params) in [
            ("init_jack", [:]), ("close_jack", [:]), ("get_jack_data", [:]), ("get_jack_sample_rate", [:]),
            ("get_jack_samplerate", [:]), ("get_jack_buffersize", [:]), ("set_jack_buffer_size", ["size": 256]),
            ("set_buffer_size", ["size": 128]), ("set_jack_buffersize", ["buffersize": 512]), ("reset_xruns", [:]),
            ("reset_jack_xruns", [:]), ("get_jack_status", [:]), ("get_jack_transport", [:]),
            ("set_jack_transport", ["state": "rolling"]), ("get_jack_xruns", [:]), ("get_jack_dsp_load", [:]),
            ("get_jack_latency", [:]), ("get_jack_ports", [:]), ("get_jack_audio_ports", [:]),
            ("get_jack_midi_ports", [:]), ("get_cpu_load", [:]), ("get_max_cpu_load", [:]),
            ("connect_jack_ports", ["port1": "system:capture_1", "port2": "system:playback_1"]),
            ("disconnect_jack_ports", ["port1": "system:capture_1", "port2": "system:playback_1"]),
        ] as [(String, [String: JSONValue])] {
            try await session.fails(method, params, .bridgeError)
        }
        // At once means no call waited out the bridge's timeout: all 24 together take less than one
        // (the first waits at most for the session's first probe of the bridge, 1.5 s).
        #expect(clock.now - started < SessionConfiguration().bridgeTimeout.scaled)
        try await session.fails("set_jack_buffer_size", ["size": 100], .invalidParameters)
        try await session.fails("set_buffer_size", [:], .invalidParameters)
        try await session.fails(
            "connect_jack_ports",
            ["port1": "nocolon", "port2": "system:playback_1"],
            .invalidParameters
        )
        try await session.fails(
            "connect_jack_ports",
            ["port1": "a:b\u{0}c", "port2": "system:playback_1"],
            .invalidParameters
        )
        try await session.fails("set_jack_transport", ["state": "sideways"], .invalidParameters)
        for method in [
            "get_jack_cv_ports", "get_jack_freewheel", "set_jack_freewheel", "get_jack_timebase", "set_jack_timebase",
            "get_jack_repl_sync", "set_jack_repl_sync", "get_jack_repl_latency", "set_jack_repl_latency",
        ] {
            try await session.fails(method, [:], .notSupported)
        }
        // No board, nothing to meter: answered without the bridge.
        #expect(try await session.call("get_audio_levels")["levels"] == [:])
        #expect(try await session.call("get_jack_connections")["connections"] == [])
        await session.stop()
    }

    @Test func eventsAreDocumentedShapes() async throws {
        let session = try await SessionHarness.start()
        let subscriber = try await Subscriber.start(connectingTo: [session.server.events.endpoint])
        var iterator = subscriber.messages.makeAsyncIterator()
        // Subscriptions reach a publisher asynchronously: publish a marker until one comes through.
        let events = session.server.events
        let syncing = Task {
            while !Task.isCancelled {
                events.publish("sync", data: nil)
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        _ = await iterator.next()
        syncing.cancel()

        let id = try #require(
            try await session.call("create_pedalboard", ["name": "Events"])["pedalboard_id"]?.stringValue
        )
        _ = try await session.call("save_pedalboard")
        _ = try await session.call("create_snapshot", ["name": "One"])
        var seen: [String: JSONValue] = [:]
        while seen["snapshot_created"] == nil, let frames = await iterator.next() {
            guard let event = EventEnvelope(frames: frames), event.eventType != "sync" else { continue }
            #expect(event.sourceService == "session_manager")
            #expect(!event.timestamp.isEmpty)
            seen[event.eventType] = event.data
        }
        #expect(seen["pedalboard_created"]?["id"] == .string(id))
        #expect(seen["pedalboard_created"]?["name"] == "Events")
        #expect(seen["pedalboard_created"]?["description"] == "")
        #expect(seen["pedalboard_saved"]?["id"] == .string(id))
        #expect(seen["pedalboard_saved"]?["saved_path"]?.stringValue?.hasSuffix("/pedalboards/\(id)") == true)
        #expect(seen["snapshot_created"]?["snapshot_name"] == "One")
        await subscriber.shutdown()
        await session.stop()
    }
}
