import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The session on the real audio path: jackd (dummy driver), `marlise-host`, `marlise-bridge`,
/// and the swh amp and mda Overdrive. The bridge and then the host are killed with SIGKILL and
/// restarted mid-session; the session re-applies its pedalboard, confirmed by reading the host's
/// own values back through the bridge. The limit allows for waiting its turn at JACK behind the
/// other suites that use it.
@Suite(.serialized, .timeLimit(.minutes(10))) struct AudioPathTests {
    /// The processes of the audio side, on free ports.
    final class AudioSide: @unchecked Sendable {  // mutated only by the one test that owns it
        let jack: String
        let hostPorts: (Int, Int)
        let bridgePorts: (rep: String, pub: String, health: String)
        var host: TestProcess?
        var bridge: TestProcess?
        let logs = FileManager.default.temporaryDirectory

        init(jack: String) throws {
            self.jack = jack
            hostPorts = (try freePort(), try freePort())
            bridgePorts = (
                "tcp://127.0.0.1:\(try freePort())", "tcp://127.0.0.1:\(try freePort())",
                "tcp://127.0.0.1:\(try freePort())"
            )
        }

        func startHost() async throws {
            let host = try await TestProcess(
                product("marlise-host"),
                ["-p", "\(hostPorts.0)", "-f", "\(hostPorts.1)", "--jack-server", jack],
                environment: ["JACK_DEFAULT_SERVER": jack],
                log: logs.appendingPathComponent("session-audio-host-\(hostPorts.0).log")
            )
            self.host = host
            let port = hostPorts.0
            try await eventually(within: .seconds(20)) {
                guard host.process.isRunning else { throw TestFailure("marlise-host exited") }
                try await onThread { try Self.connect(port) }
            }
        }

        func startBridge() async throws {
            bridge = try await TestProcess(
                product("marlise-bridge"),
                [],
                environment: [
                    "MOD_HOST_PORT": "\(hostPorts.0)", "MOD_HOST_FEEDBACK_PORT": "\(hostPorts.1)",
                    "MODHOST_BRIDGE_REP": bridgePorts.rep, "MODHOST_BRIDGE_PUB": bridgePorts.pub,
                    "MODHOST_BRIDGE_HEALTH": bridgePorts.health, "JACK_DEFAULT_SERVER": jack,
                ],
                log: logs.appendingPathComponent("session-audio-bridge-\(hostPorts.0).log")
            )
        }

        func pause() async throws { try signal(SIGSTOP) }
        func resume() async throws { try signal(SIGCONT) }

        private func signal(_ number: Int32) throws {
            guard let pid = bridge?.pid, kill(pid, number) == 0 else { throw TestFailure("cannot signal the bridge") }
        }

        func stop() async {
            try? await bridge?.stop(SIGTERM)
            try? await host?.stop(SIGTERM)
        }

        /// A TCP connect to 127.0.0.1:`port`, closed at once.
        static func connect(_ port: Int) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw TestFailure("nothing listens on \(port)") }
        }
    }

    @Test func theRigComesBackAfterTheBridgeAndThenTheHostAreKilled() async throws {
        try await Self.withAudioPath { session, side, bridge in try await exercise(session, side: side, bridge: bridge)
        }
    }

    /// A board made on a MOD device (a bundle of mod-ui's layout) loads into the host with its
    /// instance number, value and wires; packed and uploaded again it loads the same.
    @Test func aModBundleLoadsIntoTheHostAndRoundTripsAsAnArchive() async throws {
        try await Self.withAudioPath { session, _, bridge in
            let bundle = try ModBundleTests.writeModUIBundle(in: session.pedalboardsFolder)
            for round in ["dropped in", "uploaded"] {
                let loaded = try await session.call("load_pedalboard_bundle", ["bundlepath": .string(bundle)])
                #expect(loaded["plugins_loaded"] == 1, "\(round)")
                #expect(loaded["name"] == "Stage \"amp\"", "\(round)")
                #expect(loaded["connections_created"] == 2, "\(round)")
                #expect(try await Self.hostValue(bridge, 7, "gain") == -6, "\(round)")
                let initJack: JSONValue = ["action": "audio", "method": "init_jack"]
                _ = try await bridge.request(initJack.serialized())
                try await eventually(within: .seconds(10)) {
                    guard try await Self.jackPeers(bridge, "effect_7:input") == ["system:capture_1"],
                        try await Self.jackPeers(bridge, "effect_7:output") == ["system:playback_1"]
                    else { throw TestFailure("the bundle's wires are not in JACK") }
                }
                guard round == "dropped in" else { break }
                let packed = try await session.call("pack_pedalboard_bundle", ["bundlepath": .string(bundle)])
                _ = try await session.call("reset_session")
                #expect(try await Self.hostValue(bridge, 7, "gain") == nil)
                _ = try await session.call("remove_pedalboard", ["bundlepath": .string(bundle)])
                let uploaded = try await session.call("load_pedalboard_web", ["file_data": packed["file_data"] ?? ""])
                #expect(uploaded["bundlepath"] == .string(bundle))
                _ = try await session.call("reset_session")
            }
        }
    }

    /// A controller mapped through the session moves the amp in the host: the level of real sound
    /// follows the CC, the board follows the host (what a save stores), a learned controller becomes a
    /// saved binding, and after the host is killed the binding works again in the new host.
    @Test func aMappedControllerPlaysTheAmpAndSurvivesTheHost() async throws {
        try await Self.withAudioPath { session, side, bridge in
            try await eventually(within: .seconds(20)) {
                let health = try await session.client.call("health_check")
                guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
            }
            _ = try await session.call("create_pedalboard", ["name": "Played"])
            let amp = try await session.call(
                "load_plugin",
                ["uri": .string(SessionHarness.amp), "parameters": ["gain": 0]]
            )
            let ampID = try #require(amp["instance_id"]?.stringValue)
            let number = try #require(amp["plugin"]?["host_instance"]?.intValue)
            let tone = try ToneClient(server: side.jack)
            let keys = try KeyboardClient(server: side.jack)
            func raw(_ command: String) async throws -> JSONValue {
                let request: JSONValue = ["command": .string(command)]
                return try JSONValue(parsing: try await bridge.request(request.serialized()))
            }
            for wire in [
                "tone:out effect_\(number):input", "effect_\(number):output meter:in", "keys:out mod-host:midi_in",
            ] {
                #expect(try await raw("connect \(wire)")["success"] == true, "connect \(wire)")
            }
            #expect(abs(try await tone.measure() - -20) <= 0.5, "the tone passes at unity")

            _ = try await session.call(
                "address_parameter",
                [
                    "instance_id": .string(ampID), "symbol": "gain", "uri": "/midi-custom_Ch.1_CC#7", "label": "Gain",
                    "minimum": -20, "maximum": 0, "value": 0, "steps": 33,
                ]
            )
            // CC 7 at 0 is the bottom of the range: −20 dB more on the tone; the board follows.
            keys.send(channel: 0, controller: 7, value: 0)
            try await eventually(within: .seconds(5)) {
                guard try await Self.hostValue(bridge, number, "gain") == -20 else {
                    throw TestFailure("CC not applied")
                }
            }
            #expect(abs(try await tone.measure() - -40) <= 0.5, "the level follows the controller")
            try await eventually(within: .seconds(5)) {
                let board = try await session.call("get_current_pedalboard")["pedalboard"]
                guard board?["plugins"]?.arrayValue?.first?["parameters"]?["gain"]?.doubleValue == -20 else {
                    throw TestFailure("the board did not follow: \(board?.jsonText.prefix(300) ?? "")")
                }
            }

            // Unlearned, CC 7 moves nothing; learned again, the first controller that moves binds.
            _ = try await session.call(
                "address_parameter",
                ["instance_id": .string(ampID), "symbol": "gain", "uri": "/midi-unlearn"]
            )
            keys.send(channel: 0, controller: 7, value: 127)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await Self.hostValue(bridge, number, "gain") == -20)
            _ = try await session.call(
                "address_parameter",
                ["instance_id": .string(ampID), "symbol": "gain", "uri": "/midi-learn", "minimum": -30, "maximum": 6]
            )
            try await eventually(within: .seconds(5)) {
                keys.send(channel: 2, controller: 21, value: 127)
                try await Task.sleep(for: .milliseconds(50))
                let addressings = try await session.call("get_current_pedalboard")["pedalboard"]?["addressings"]
                guard addressings?["/midi-custom_Ch.3_CC#21"] != nil else {
                    throw TestFailure("not learned: \(addressings?.jsonText ?? "nil")")
                }
            }
            try await eventually(within: .seconds(5)) {
                guard try await Self.hostValue(bridge, number, "gain") == 6 else {
                    throw TestFailure("CC 21 not applied")
                }
            }
            let saved = try #require(try await session.call("save_pedalboard")["saved_id"]?.stringValue)
            let stored = try String(
                contentsOfFile: "\(session.pedalboardsFolder)/\(saved)/addressings.json",
                encoding: .utf8
            )
            #expect(stored.contains("/midi-custom_Ch.3_CC#21"), "\(stored)")

            // The host dies; the new one gets the board and its binding back.
            let before = try await Self.lastResync(session)
            try await side.host?.stop(SIGKILL)
            try await side.startHost()
            try await Self.untilResynced(session, after: before)
            let health = try await session.client.call("health_check")
            #expect(health["details"]?["last_resync"]?["settings_failed"] == [], "\(health.jsonText.prefix(600))")
            try await eventually(within: .seconds(10)) {
                _ = try await raw("connect keys:out mod-host:midi_in")
                keys.send(channel: 2, controller: 21, value: 0)
                try await Task.sleep(for: .milliseconds(50))
                guard try await Self.hostValue(bridge, number, "gain") == -30 else {
                    throw TestFailure("the binding is not back in the new host")
                }
            }
        }
    }

    /// Meters through the session: the host watches what feeds the board's outputs, and a known
    /// tone reads at its level, announced as `audio_levels` events too.
    @Test func metersReadTheLevelOfAKnownTone() async throws {
        try await Self.withAudioPath { session, side, bridge in
            try await eventually(within: .seconds(20)) {
                let health = try await session.client.call("health_check")
                guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
            }
            _ = try await session.call("create_pedalboard", ["name": "Metered"])
            let amp = try await session.call(
                "load_plugin",
                ["uri": .string(SessionHarness.amp), "parameters": ["gain": -6]]
            )
            let ampID = try #require(amp["instance_id"]?.stringValue)
            let number = try #require(amp["plugin"]?["host_instance"]?.intValue)
            _ = try await session.call(
                "create_connection",
                ["source": .string("\(ampID):output"), "target": "system:playback_1"]
            )
            let tone = try ToneClient(server: side.jack)
            let request: JSONValue = ["command": .string("connect tone:out effect_\(number):input")]
            _ = try await bridge.request(request.serialized())
            defer { withExtendedLifetime(tone) {} }
            let events = try await Subscriber.start(connectingTo: [session.server.events.endpoint])
            var received = events.messages.makeAsyncIterator()
            // A 0.1 peak sine at −6 dB: 0.05 at the amp's output.
            try await eventually(within: .seconds(10)) {
                let levels = try await session.call("get_audio_levels")["levels"]
                guard let peak = levels?["effect_\(number):output"]?.doubleValue, abs(peak - 0.0501) < 0.005 else {
                    throw TestFailure("levels: \(levels?.jsonText ?? "nil")")
                }
                #expect(levels?["system:capture_1"] != nil, "the board's inputs are metered too")
            }
            var seen: Set<String> = []
            let event = try await Self.next("audio_levels", &received, seen: &seen)
            #expect(event["port"] != nil && event["value"]?.doubleValue != nil, "\(event.jsonText)")
            await events.shutdown()
        }
    }

    /// A knob sweep sent faster than the host takes it: 300 changes of one parameter written back to
    /// back on one socket. Every one is answered, the host ends on the last, and clients hear a few
    /// `parameter_changed`, never going back, the last of them the last value.
    @Test func aKnobSweepCoalescesAndTheLastValueWins() async throws {
        try await Self.withAudioPath { session, side, bridge in
            try await eventually(within: .seconds(20)) {
                let health = try await session.client.call("health_check")
                guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
            }
            _ = try await session.call("create_pedalboard", ["name": "Sweep"])
            let amp = try await session.call("load_plugin", ["uri": .string(SessionHarness.amp)])
            let ampID = try #require(amp["instance_id"]?.stringValue)
            let number = try #require(amp["plugin"]?["host_instance"]?.intValue)
            let events = try await Subscriber.start(connectingTo: [session.server.events.endpoint])
            let values = (0..<300).map { -70 + Double($0) * 0.2 }
            let socket = try ZMQSocket(.dealer)
            try socket.set(.receiveTimeout(.seconds(20)))
            try socket.connect(session.server.rpc.endpoint)
            for (index, value) in values.enumerated() {
                var request = RequestEnvelope(
                    method: "set_parameter",
                    params: ["instance_id": .string(ampID), "parameter": "gain", "value": .double(value)]
                )
                request.requestID = .int(index)
                #expect(try socket.send([Data(), request.encoded()]))
            }
            var answered = 0
            for _ in values {
                let frames = try #require(try socket.receive(), "a reply within 20 s")
                let reply = try ReplyEnvelope.decode(try #require(frames.last))
                let result = try reply.outcome.get()
                #expect(result["success"] == true, "\(result.jsonText)")
                answered += 1
            }
            socket.close()
            #expect(answered == values.count)
            let last = try #require(values.last)
            #expect(try await Self.hostValue(bridge, number, "gain").map { abs($0 - last) < 1e-4 } == true)
            let read = try await session.call("get_parameter", ["instance_id": .string(ampID), "parameter": "gain"])
            #expect(read["value"]?["value"]?.doubleValue.map { abs($0 - last) < 1e-4 } == true, "\(read.jsonText)")
            // The announcements: at most one per 50 ms, the latest always, so the last comes last.
            var announced: [Double] = []
            var received = events.messages.makeAsyncIterator()
            // Bounded: if the last value is never announced, the stream is ended and the wait fails.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(10))
                await events.shutdown()
            }
            defer { watchdog.cancel() }
            while announced.last.map({ abs($0 - last) > 1e-9 }) ?? true {
                var seen: Set<String> = []
                let event = try await Self.next("parameter_changed", &received, seen: &seen)
                if let value = event["value"]?.doubleValue { announced.append(value) }
            }
            await events.shutdown()
            #expect(announced == announced.sorted(), "announcements went back: \(announced)")
            #expect(announced.count < values.count / 4, "\(announced.count) announcements for \(values.count) changes")
        }
    }

    /// Tempo and metre set through the session reach the host (its transport instance 9995), are
    /// saved with the board and are put back into a host started after kill -9; the clock source is
    /// the box's: MIDI clock is taken, Ableton Link refused by a host built without it.
    @Test func theTransportIsTheBoardsAndSurvivesTheHost() async throws {
        try await Self.withAudioPath { session, side, bridge in
            try await eventually(within: .seconds(20)) {
                let health = try await session.client.call("health_check")
                guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
            }
            _ = try await session.call("create_pedalboard", ["name": "Timed"])
            _ = try await session.call("load_plugin", ["uri": .string(SessionHarness.amp)])
            let set = try await session.call("set_jack_transport", ["state": "rolling", "bpm": 96, "bpb": 3])
            #expect(set["bpm"]?.doubleValue == 96 && set["bpb"]?.doubleValue == 3 && set["rolling"] == true)
            #expect(try await Self.hostValue(bridge, 9995, ":bpm") == 96)
            #expect(try await Self.hostValue(bridge, 9995, ":bpb") == 3)
            try await session.fails("set_jack_transport", ["bpm": 1000], .invalidParameters)
            _ = try await session.call("set_transport_sync_mode", ["mode": "midi_clock_slave"])
            #expect(try await session.call("get_transport_sync_mode")["mode"] == "midi_clock_slave")
            try await session.fails("set_transport_sync_mode", ["mode": "link"], .notSupported)
            // MIDI devices: the dummy driver has none; the choice of mode is kept all the same.
            _ = try await session.call("set_midi_devices", ["devs": [], "midiAggregatedMode": false])
            let devices = try await session.call("get_midi_devices")
            #expect(devices["dev_list"] == [] && devices["devsInUse"] == [], "\(devices.jsonText)")
            #expect(devices["midi_aggregated_mode"] == false && devices["midiAggregatedMode"] == false)
            try await session.fails("set_midi_devices", ["devs": ["nocolon"]], .invalidParameters)
            #expect(try await session.call("get_transport_sync_mode")["mode"] == "none")
            let saved = try #require(try await session.call("save_pedalboard")["saved_id"]?.stringValue)
            let graph = try String(
                contentsOfFile:
                    "\(session.pedalboardsFolder)/\(saved)/\(saved.replacingOccurrences(of: ".pedalboard", with: "")).ttl",
                encoding: .utf8
            )
            #expect(graph.contains("ingen:value 96.0"), "the tempo is in the bundle")

            let before = try await Self.lastResync(session)
            try await side.host?.stop(SIGKILL)
            try await side.startHost()
            try await Self.untilResynced(session, after: before)
            try await eventually(within: .seconds(10)) {
                guard try await Self.hostValue(bridge, 9995, ":bpm") == 96,
                    try await Self.hostValue(bridge, 9995, ":bpb") == 3
                else { throw TestFailure("tempo not back in the new host") }
            }
        }
    }

    /// A file parameter set through the session reaches a plugin from Debian that reads it: a
    /// sample in the user's files, given to lv2-examples' sampler, plays on a note; saved with the
    /// board, it is given again to a host started after kill -9.
    @Test func aSampleSetThroughTheSessionPlaysAndSurvivesTheHost() async throws {
        let sampler = "http://lv2plug.in/plugins/eg-sampler"
        let property = "http://lv2plug.in/plugins/eg-sampler#sample"
        // lv2-examples, which scripts/setup.sh installs.
        try #require(SessionHarness.catalogue.plugin(uri: sampler) != nil, "eg-sampler is not installed")
        try await Self.withAudioPath { session, side, bridge in
            try await eventually(within: .seconds(20)) {
                let health = try await session.client.call("health_check")
                guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
            }
            let sample = "\(session.data)/user-files/Audio Samples/sine.wav"
            try sineWAV(seconds: 0.5, frequency: 440).write(to: URL(fileURLWithPath: sample))
            _ = try await session.call("create_pedalboard", ["name": "Sampled"])
            let loaded = try await session.call("load_plugin", ["uri": .string(sampler)])
            let id = try #require(loaded["instance_id"]?.stringValue)
            let number = try #require(loaded["plugin"]?["host_instance"]?.intValue)
            _ = try await session.call(
                "set_patch_parameter",
                ["instance_id": .string(id), "uri": .string(property), "value": .string(sample)]
            )
            let tone = try ToneClient(server: side.jack, amplitude: 0)
            let keys = try KeyboardClient(server: side.jack)
            func plays() async throws -> Bool {
                for wire in ["keys:out effect_\(number):control", "effect_\(number):out meter:in"] {
                    let request: JSONValue = ["command": .string("connect \(wire)")]
                    _ = try await bridge.request(request.serialized())
                }
                // The plugin's worker loads the file after the message: give it a moment.
                try await Task.sleep(for: .milliseconds(300))
                keys.send(note: 60, velocity: 100)
                let start = tone.cycles
                _ = try await tone.measure(cycles: 40)
                keys.send(note: 60, velocity: 0)
                return (start...start + 40).map(tone.level(ofCycle:)).filter { $0 > -40 }.count >= 5
            }
            #expect(try await plays(), "the sample plays on a note")
            let saved = try #require(try await session.call("save_pedalboard")["saved_id"]?.stringValue)
            let stored = try String(contentsOfFile: "\(session.pedalboardsFolder)/\(saved)/patch.json", encoding: .utf8)
            #expect(stored.contains("sine.wav"), "\(stored)")

            let before = try await Self.lastResync(session)
            try await side.host?.stop(SIGKILL)
            try await side.startHost()
            try await Self.untilResynced(session, after: before)
            #expect(try await plays(), "the sample plays again in the new host")
        }
    }

    /// Runs `body` against jackd, marlise-host, marlise-bridge and a session service on free
    /// ports, and stops them all whatever happens.
    static func withAudioPath(
        _ body: (SessionHarness, AudioSide, RPCClient) async throws -> Void
    ) async throws {
        try await withJackServer { server in
            let side = try AudioSide(jack: server.name)
            try await side.startHost()
            try await side.startBridge()
            var configuration = SessionConfiguration()
            configuration.dataDirectory = SessionHarness.makeDataDirectory()
            configuration.bridgeEndpoint = side.bridgePorts.rep
            configuration.bridgeEventsEndpoint = side.bridgePorts.pub
            configuration.bridgeHealthEndpoint = side.bridgePorts.health
            configuration.bridgeTimeout = .seconds(10)
            let server = try await SessionServer.start(
                configuration,
                catalogue: SessionHarness.catalogue,
                rpcEndpoint: "tcp://127.0.0.1:*",
                pubEndpoint: "tcp://127.0.0.1:*"
            )
            let session = SessionHarness(
                server: server,
                client: RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(10))),
                data: configuration.dataDirectory
            )
            let bridge = RPCClient(RPCClientConfiguration(endpoint: side.bridgePorts.rep, timeout: .seconds(3)))
            do {
                try await body(session, side, bridge)
            } catch {
                await bridge.shutdown()
                await session.stop()
                await side.stop()
                throw error
            }
            await bridge.shutdown()
            await session.stop()
            await side.stop()
        }
    }

    /// The host's value of `symbol` on instance `number`, asked through the bridge.
    static func hostValue(_ bridge: RPCClient, _ number: Int, _ symbol: String) async throws -> Double? {
        let request: JSONValue = ["command": .string("param_get \(number) \(symbol)")]
        let frame = try await bridge.request(request.serialized())
        let reply = try JSONValue(parsing: frame)
        guard reply["error"] == nil else { return nil }  // e.g. ERR_INSTANCE_NON_EXISTS
        return reply["raw"]?.stringValue?.split(separator: " ").last.flatMap { Double($0) }
    }

    private func exercise(_ session: SessionHarness, side: AudioSide, bridge: RPCClient) async throws {
        try await eventually(within: .seconds(20)) {
            let health = try await session.client.call("health_check")
            guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
        }
        let events = try await Subscriber.start(connectingTo: [session.server.events.endpoint])
        var received = events.messages.makeAsyncIterator()
        let publisher = session.server.events
        let syncing = Task {
            while !Task.isCancelled {
                publisher.publish("sync", data: nil)
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        _ = await received.next()
        syncing.cancel()

        _ = try await session.call("create_pedalboard", ["name": "Stage"])
        let amp = try await session.call(
            "load_plugin",
            ["uri": .string(SessionHarness.amp), "x": 10, "y": 20, "parameters": ["gain": 6]]
        )
        let drive = try await session.call("add_plugin", ["uri": .string(SessionHarness.overdrive)])
        let ampID = try #require(amp["instance_id"]?.stringValue)
        let driveID = try #require(drive["instance_id"]?.stringValue)
        let ampNumber = try #require(amp["plugin"]?["host_instance"]?.intValue)
        let driveNumber = try #require(drive["plugin"]?["host_instance"]?.intValue)
        #expect(try await Self.hostValue(bridge, ampNumber, "gain") == 6)

        _ = try await session.call("set_parameter", ["instance_id": .string(ampID), "parameter": "gain", "value": -12])
        _ = try await session.call("set_parameter", ["instance_id": .string(driveID), "port": "drive", "value": 0.25])
        _ = try await session.call("set_bypass", ["instance_id": .string(driveID), "bypass": true])
        _ = try await session.call(
            "create_connection",
            ["source": "system:capture_1", "target": .string("\(ampID):input")]
        )
        _ = try await session.call(
            "create_connection",
            ["source": .string("\(ampID):output"), "target": .string("\(driveID):left_in")]
        )
        #expect(try await Self.hostValue(bridge, ampNumber, "gain") == -12)

        // A wire the web client makes by JACK port names belongs to the board like any other: listed,
        // made in JACK, and gone from both when the client removes it (named in either order).
        let outlet = "effect_\(driveNumber):left_out"
        _ = try await session.call("connect_jack_ports", ["port1": .string(outlet), "port2": "system:playback_2"])
        let wired = try await session.call("list_connections")
        #expect(wired["connections"]?.arrayValue?.count == 3, "\(wired.jsonText)")
        #expect(try await Self.jackPeers(bridge, outlet).contains("system:playback_2"))
        _ = try await session.call("disconnect_jack_ports", ["port1": "system:playback_2", "port2": .string(outlet)])
        #expect(try await session.call("list_connections")["connections"]?.arrayValue?.count == 2)
        #expect(try await !Self.jackPeers(bridge, outlet).contains("system:playback_2"))

        let read = try await session.call("get_parameter", ["instance_id": .string(ampID), "port": "gain"])
        #expect(read["source"] == "host")
        #expect(read["current_value"] == -12.0)
        // A bridge that stops answering (SIGSTOP) holds up the call waiting on it, and nothing else:
        // health and stored state answer at once, and the call ends when the bridge resumes.
        try await side.pause()
        let other = RPCClient(RPCClientConfiguration(endpoint: session.server.rpc.endpoint, timeout: .seconds(10)))
        let stuck = Task { () throws -> (JSONValue, ContinuousClock.Instant) in
            let result = try await other.call(
                "set_parameter",
                params: ["instance_id": .string(ampID), "parameter": "gain", "value": -12]
            )
            return (result, ContinuousClock.now)
        }
        // For a quarter of a second (shorter than the session's 0.5 s health probe timeout, so the
        // link is not declared down), while that call waits on the stopped bridge, everything else
        // answers.
        let clock = ContinuousClock()
        let window = clock.now + .milliseconds(250)
        var answered = 0
        while clock.now < window {
            let asked = clock.now
            _ = try await session.call("health_check")
            _ = try await session.call("get_current_pedalboard")
            _ = try await session.call("get_pedalboard_list")
            #expect(clock.now - asked < .seconds(1))
            answered += 1
        }
        #expect(answered > 1)
        let resumed = clock.now
        try await side.resume()
        let (result, finished) = try await stuck.value
        #expect(result["success"] == true)
        #expect(finished >= resumed, "the call did not wait for the bridge")
        await other.shutdown()

        _ = try await session.call("create_snapshot", ["name": "Quiet"])
        _ = try await session.call("set_parameter", ["instance_id": .string(ampID), "parameter": "gain", "value": 3])
        let applied = try await session.call("apply_snapshot", ["id": "1"])
        #expect(applied["parameters_applied"]?.intValue ?? 0 >= 2)
        #expect(try await Self.hostValue(bridge, ampNumber, "gain") == -12)

        // Presets: the user's (kept by the session, applied value by value) and an LV2 one (loaded by
        // the host, its values read back from it).
        let userPreset = try await session.call("save_preset", ["instance_id": .string(ampID), "label": "Quiet amp"])
        _ = try await session.call("set_parameter", ["instance_id": .string(ampID), "parameter": "gain", "value": 3])
        _ = try await session.call(
            "load_preset",
            ["instance_id": .string(ampID), "preset_uri": userPreset["preset"]?["uri"] ?? ""]
        )
        #expect(try await Self.hostValue(bridge, ampNumber, "gain") == -12)
        let leslie = try await session.call("add_plugin", ["uri": .string(SessionHarness.leslie)])
        let leslieID = try #require(leslie["instance_id"]?.stringValue)
        let leslieNumber = try #require(leslie["plugin"]?["host_instance"]?.intValue)
        let presets = try #require(
            try await session.call("show_presets", ["instance_id": .string(leslieID)])["presets"]?.arrayValue
        )
        let slow = try #require(presets.first { $0["label"] == "Slow" }?["uri"])
        let loadedPreset = try await session.call(
            "load_preset",
            ["instance_id": .string(leslieID), "preset_uri": slow]
        )
        let depth = try #require(loadedPreset["parameters"]?["hi_depth"]?.doubleValue)
        #expect(abs(depth - 0.75) < 0.001)
        #expect(try await Self.hostValue(bridge, leslieNumber, "hi_depth").map { abs($0 - 0.75) < 0.001 } == true)
        _ = try await session.call("remove_plugin", ["instance_id": .string(leslieID)])

        // The bridge dies and comes back on the same ports: the host lost nothing, but the new
        // bridge knows no instance. The session re-applies the pedalboard.
        var before = try await Self.lastResync(session)
        try await side.bridge?.stop(SIGKILL)
        try await side.startBridge()
        try await Self.untilResynced(session, after: before)
        var seen: Set<String> = []
        let afterBridge = try await Self.resynced(session, &received, seen: &seen)
        #expect(afterBridge["failed"] == [], "\(afterBridge.jsonText)")
        // The host kept playing them: taken over as they are, not removed and loaded again.
        #expect(afterBridge["plugins_adopted"] == 2 && afterBridge["plugins_loaded"] == 0, "\(afterBridge.jsonText)")
        try await expectRig(session, bridge, ampID: ampID, driveID: driveID, numbers: (ampNumber, driveNumber))

        // The host dies and comes back on the same ports: every instance is gone from it.
        before = try await Self.lastResync(session)
        try await side.host?.stop(SIGKILL)
        try await side.startHost()
        try await Self.untilResynced(session, after: before)
        let afterHost = try await Self.resynced(session, &received, seen: &seen)
        #expect(afterHost["failed"] == [], "\(afterHost.jsonText)")
        try await expectRig(session, bridge, ampID: ampID, driveID: driveID, numbers: (ampNumber, driveNumber))
        // Everything on the way was announced.
        for type in [
            "pedalboard_created", "plugin_loaded", "parameter_changed", "plugin_bypassed", "connection_created",
            "snapshot_created", "snapshot_applied", "pedalboard_changed",
        ] {
            #expect(seen.contains(type), "no \(type) event")
        }

        // Saved, replaced by an empty pedalboard (the host emptied), and loaded back from its file.
        let saved = try #require(try await session.call("save_pedalboard")["saved_id"]?.stringValue)
        _ = try await session.call("create_pedalboard", ["name": "Empty"])
        #expect(try await session.call("list_instances")["count"] == 0)
        let unloaded = try await Self.next("pedalboard_created", &received, seen: &seen)
        #expect(unloaded["name"] == "Empty")
        #expect(seen.contains("plugin_unloaded"))
        #expect(try await Self.hostValue(bridge, ampNumber, "gain") == nil)
        let loaded = try await session.call("load_pedalboard", ["id": .string(saved)])
        #expect(loaded["plugins_loaded"] == 2)
        #expect(loaded["connections_created"] == 2)
        #expect(loaded["failed"] == [])
        let event = try await Self.next("pedalboard_loaded", &received, seen: &seen)
        #expect(event["plugins_loaded"] == 2)
        try await expectRig(session, bridge, ampID: ampID, driveID: driveID, numbers: (ampNumber, driveNumber))
        await events.shutdown()
    }

    /// The ports JACK has `port` connected to, asked through the bridge.
    static func jackPeers(_ bridge: RPCClient, _ port: String) async throws -> [String] {
        let request: JSONValue = ["action": "audio", "method": "get_jack_port_connections", "port": .string(port)]
        let reply = try JSONValue(parsing: try await bridge.request(request.serialized()))
        return reply["connections"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// When the session last re-synced, as `health_check` reports it.
    static func lastResync(_ session: SessionHarness) async throws -> JSONValue {
        try await session.client.call("health_check")["details"]?["last_resync"]?["timestamp"] ?? .null
    }

    /// Waits (bounded) until `health_check` reports a re-sync newer than `before`.
    static func untilResynced(_ session: SessionHarness, after before: JSONValue) async throws {
        try await eventually(within: .seconds(30)) {
            guard try await lastResync(session) != before else { throw TestFailure("no re-sync yet") }
        }
    }

    /// The `pedalboard_resynced` event of the re-sync `health_check` reports last; earlier ones (the
    /// session's first probe finding the bridge re-syncs too) are passed over.
    static func resynced(
        _ session: SessionHarness,
        _ received: inout AsyncStream<[Data]>.Iterator,
        seen: inout Set<String>
    ) async throws -> JSONValue {
        let last = try await lastResync(session)
        while true {
            let event = try await next("pedalboard_resynced", &received, seen: &seen)
            if event["timestamp"] == last { return event }
        }
    }

    /// The data of the next event of `type` (one was reported: it is already on its way); the types
    /// passed on the way are added to `seen`.
    static func next(
        _ type: String,
        _ received: inout AsyncStream<[Data]>.Iterator,
        seen: inout Set<String>
    ) async throws -> JSONValue {
        while let frames = await received.next() {
            guard let event = EventEnvelope(frames: frames) else { continue }
            seen.insert(event.eventType)
            if event.eventType == type { return event.data }
        }
        throw TestFailure("event stream ended")
    }

    /// The host holds our values under the same instance numbers, and the session says so too.
    private func expectRig(
        _ session: SessionHarness,
        _ bridge: RPCClient,
        ampID: String,
        driveID: String,
        numbers: (Int, Int)
    ) async throws {
        let instances = try await session.call("list_instances")
        #expect(instances["instances"]?["instances"]?[ampID]?["host_instance"] == .int(numbers.0))
        #expect(instances["instances"]?["instances"]?[driveID]?["host_instance"] == .int(numbers.1))
        try await eventually(within: .seconds(10)) {
            guard try await Self.hostValue(bridge, numbers.0, "gain") == -12,
                try await Self.hostValue(bridge, numbers.1, "drive") == 0.25
            else { throw TestFailure("host values not back") }
        }
        #expect(
            try await session.call("get_parameter", ["instance_id": .string(ampID), "port": "gain"])["current_value"]
                == -12.0
        )
        #expect(try await session.call("list_connections")["count"] == 2)
        // The wires as JACK itself has them, asked through the bridge's own JACK client. A crash can
        // set off more than one re-sync (the bridge's announcement and the session's own probe); the
        // values of a later one may be back before its wires, so the wires are waited for too.
        let initJack: JSONValue = ["action": "audio", "method": "init_jack"]
        _ = try await bridge.request(initJack.serialized())
        try await eventually(within: .seconds(10)) {
            for (port, expected) in [
                ("effect_\(numbers.0):output", "effect_\(numbers.1):left_in"),
                ("effect_\(numbers.0):input", "system:capture_1"),
            ] {
                let wires: JSONValue = [
                    "action": "audio", "method": "get_jack_port_connections", "port": .string(port),
                ]
                let reply = try JSONValue(parsing: try await bridge.request(wires.serialized()))
                guard reply["connections"] == [.string(expected)] else {
                    throw TestFailure("\(port) → \(expected) not in JACK: \(reply.jsonText)")
                }
            }
        }
    }
}
