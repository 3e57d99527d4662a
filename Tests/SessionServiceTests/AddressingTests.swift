import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// Parameters bound to MIDI controllers and CV outputs: kept in mod-ui's `addressings.json` shape,
/// saved with the board, refused plainly where this box has no such actuator, and followed when
/// the host reports what a controller did.
@Suite(.timeLimit(.minutes(2))) struct AddressingTests {
    static let midi = Addressing(
        actuator: "/midi-custom_Ch.2_CC#7",
        instanceID: "amp",
        port: "gain",
        label: "Gain",
        minimum: -20,
        maximum: 10,
        steps: 33,
        extras: ["momentary": 0]
    )

    @Test func midiActuatorsAreReadAsModUINamesThem() {
        #expect(Addressings.midi("/midi-custom_Ch.2_CC#7")! == (1, 7))
        #expect(Addressings.midi("/midi-custom_16_127")! == (15, 127))
        #expect(Addressings.midiURI(channel: 1, controller: 7) == "/midi-custom_Ch.2_CC#7")
        for bad in [
            "/midi-custom_Ch.0_CC#7", "/midi-custom_Ch.17_CC#7", "/midi-custom_Ch.1_CC#128", "/midi-learn",
            "/hmi/knob1",
        ] {
            #expect(Addressings.midi(bad) == nil, "\(bad)")
        }
        #expect(Addressings.cvSource("/cv/graph/lfo/out")! == ("lfo", "out"))
        #expect(Addressings.cvSource("/cv/graph/lfo") == nil)
    }

    @Test func theDocumentIsModUIsAddressingsJSON() throws {
        var addressings = Addressings()
        addressings.bindings = [Self.midi]
        addressings.cvPorts["/cv/graph/lfo/out"] = "LFO"
        let document = addressings.json
        let entry = try #require(document["/midi-custom_Ch.2_CC#7"]?.arrayValue?.first)
        #expect(entry["instance"] == "/graph/amp")
        #expect(entry["port"] == "gain")
        #expect(entry["minimum"]?.doubleValue == -20)
        #expect(entry["momentary"] == 0)
        #expect(document["/cv/graph/lfo/out"]?["name"] == "LFO")
        #expect(document["/cv/graph/lfo/out"]?["addrs"] == [])
        #expect(Addressings(json: document) == addressings)
        // A foreign writer's entry this box cannot read is skipped, not fatal.
        #expect(Addressings(json: ["/hmi/knob1": ["not an entry"]]).isEmpty)
    }

    @Test func aBundleKeepsItsAddressings() throws {
        var board = Pedalboard(id: "Mapped.pedalboard", name: "Mapped")
        board.plugins = [
            PluginInstance(
                instanceID: "amp",
                uri: SessionHarness.amp,
                name: "Amp",
                parameters: ["gain": 0],
                hostNumber: 0
            )
        ]
        board.addressings.bindings = [Self.midi]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("Mapped-\(getpid()).pedalboard").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for file in ModBundle.files(for: board, symbol: "Mapped", catalogue: SessionHarness.catalogue) {
            try Data(file.bytes).write(to: URL(fileURLWithPath: folder + "/" + file.name))
        }
        let read = try ModBundle.read(folder, id: "Mapped.pedalboard")
        #expect(read.addressings.bindings == [Self.midi])
        // And the v1 JSON carries the same document.
        let v1 = try Pedalboard(json: board.json, fallbackID: "x")
        #expect(v1.addressings == board.addressings)
        #expect(v1.extra["addressings"] == nil)
    }

    @Test func whatThisBoxCannotAddressIsRefusedPlainly() async throws {
        let harness = try await SessionHarness.start(restoring: [SessionHarness.ampInstance(gain: 0, hostNumber: 3)])
        defer { Task { await harness.stop() } }
        let base: [String: JSONValue] = ["instance_id": "amp", "symbol": "gain", "minimum": -20, "maximum": 10]
        var hmi = base
        hmi["uri"] = "/hmi/knob1"
        try await harness.fails("address_parameter", hmi, .notSupported)
        var badPort = base
        badPort["uri"] = "/midi-learn"
        badPort["symbol"] = "nosuch"
        try await harness.fails("address_parameter", badPort, .invalidParameters)
        var stranger = base
        stranger["uri"] = "/midi-learn"
        stranger["instance_id"] = "nobody"
        try await harness.fails("address_parameter", stranger, .instanceNotFound)
        // No bridge here: nothing is bound, and nothing recorded.
        var mapped = base
        mapped["uri"] = "/midi-custom_Ch.1_CC#7"
        try await harness.fails("address_parameter", mapped, .bridgeError)
        let board = try await harness.call("get_current_pedalboard")
        #expect(board["pedalboard"]?["addressings"] == [:], "\(board.jsonText.prefix(300))")

        try await harness.fails("set_transport_sync_mode", ["mode": "jack"], .invalidParameters)
        try await harness.fails("add_cv_addressing_port", ["uri": "/cv/nowhere", "name": "x"], .invalidParameters)
        try await harness.fails(
            "add_cv_addressing_port",
            ["uri": "/cv/graph/amp/gain", "name": "x"],
            .invalidParameters
        )
        try await harness.fails("remove_cv_addressing_port", ["uri": "/cv/graph/amp/out"], .notFound)
    }

    /// The host's own reports, published as the bridge publishes them: a controller moved the gain,
    /// then a learned controller was bound. The board follows both and says so.
    @Test func theBoardFollowsWhatTheHostReports() async throws {
        let data = SessionHarness.makeDataDirectory()
        try SessionHarness.seedSession(data: data, plugins: [SessionHarness.ampInstance(gain: 0, hostNumber: 3)])
        var configuration = try SessionHarness.configuration(data: data)
        // Bound on a port of the system's choosing: a free port picked earlier may be taken by then.
        let bridgeEvents = try await Publisher.start(endpoint: "tcp://127.0.0.1:*", sourceService: "modhost_bridge")
        configuration.bridgeEventsEndpoint = bridgeEvents.endpoint
        let server = try await SessionServer.start(
            configuration,
            catalogue: SessionHarness.catalogue,
            rpcEndpoint: "tcp://127.0.0.1:*",
            pubEndpoint: "tcp://127.0.0.1:*"
        )
        let client = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(10)))
        defer {
            Task {
                await client.shutdown()
                await server.shutdown()
                await bridgeEvents.shutdown()
                try? FileManager.default.removeItem(atPath: data)
            }
        }
        func board() async throws -> JSONValue {
            try await client.call("get_current_pedalboard", params: [:])["pedalboard"] ?? .null
        }
        // A subscriber joins a few milliseconds after it connects: the report is repeated until seen.
        try await eventually(within: .seconds(10)) {
            bridgeEvents.publish("param_set", data: ["effect_id": 3, "symbol": "gain", "value": -6.5])
            let plugin = try await board()["plugins"]?.arrayValue?.first
            guard plugin?["parameters"]?["gain"]?.doubleValue == -6.5 else { throw TestFailure("gain not followed") }
        }
        try await eventually(within: .seconds(10)) {
            bridgeEvents.publish(
                "midi_mapped",
                data: [
                    "effect_id": 3, "symbol": "gain", "channel": 0, "controller": 74, "value": 2, "minimum": -10,
                    "maximum": 5,
                ]
            )
            let addressings = try await board()["addressings"]
            guard let entry = addressings?["/midi-custom_Ch.1_CC#74"]?.arrayValue?.first else {
                throw TestFailure("binding not recorded: \(addressings?.jsonText ?? "nil")")
            }
            #expect(entry["instance"] == "/graph/amp")
            #expect(entry["minimum"]?.doubleValue == -10 && entry["maximum"]?.doubleValue == 5)
        }
        // Another board's instance number, or a port the plugin lacks, changes nothing.
        bridgeEvents.publish("param_set", data: ["effect_id": 9, "symbol": "gain", "value": 1])
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await board()["plugins"]?.arrayValue?.first?["parameters"]?["gain"]?.doubleValue == 2)
    }
}

/// Patch parameters (a plugin's file or text properties): confined to the user's files, saved with
/// the board in both formats.
@Suite(.timeLimit(.minutes(2))) struct PatchParameterTests {
    @Test func aFileOutsideTheUsersFilesIsRefusedAndNothingIsRecorded() async throws {
        let harness = try await SessionHarness.start(restoring: [SessionHarness.ampInstance(gain: 0, hostNumber: 3)])
        defer { Task { await harness.stop() } }
        let sample = "\(harness.data)/user-files/Audio Samples/kick.wav"
        try Data("RIFF".utf8).write(to: URL(fileURLWithPath: sample))
        let property = "http://lv2plug.in/plugins/eg-sampler#sample"
        for bad in [
            "/etc/passwd", "\(harness.data)/user-files/../session/current.json",
            "\(harness.data)/user-files/Audio Samples",
        ] {
            try await harness.fails(
                "set_patch_parameter",
                ["instance_id": "amp", "uri": .string(property), "value": .string(bad)],
                .invalidParameters
            )
        }
        try await harness.fails(
            "set_patch_parameter",
            ["instance_id": "amp", "uri": .string(property), "value": "say \"hi\""],
            .invalidParameters
        )
        // A link out of the user's files is followed to where it points, and refused.
        let link = "\(harness.data)/user-files/Audio Samples/escape.wav"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/etc/hostname")
        try await harness.fails(
            "set_patch_parameter",
            ["instance_id": "amp", "uri": .string(property), "value": .string(link)],
            .invalidParameters
        )
        // A good file, but no bridge: nothing recorded.
        try await harness.fails(
            "set_patch_parameter",
            ["instance_id": "amp", "uri": .string(property), "value": .string(sample)],
            .bridgeError
        )
        let plugin = try await harness.call("get_current_pedalboard")["pedalboard"]?["plugins"]?.arrayValue?.first
        #expect(plugin?["patch"] == nil)
    }

    @Test func patchValuesAreSavedInBothFormats() throws {
        var board = Pedalboard(id: "Sampled.pedalboard", name: "Sampled")
        var sampler = PluginInstance(instanceID: "sampler", uri: SessionHarness.amp, name: "Sampler", hostNumber: 0)
        sampler.patch = ["http://lv2plug.in/plugins/eg-sampler#sample": "/data/user-files/Audio Samples/kick.wav"]
        board.plugins = [sampler]
        #expect(try Pedalboard(json: board.json, fallbackID: "x").plugins.first?.patch == sampler.patch)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("Sampled-\(getpid()).pedalboard")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for file in ModBundle.files(for: board, symbol: "Sampled", catalogue: SessionHarness.catalogue) {
            try Data(file.bytes).write(to: URL(fileURLWithPath: folder + "/" + file.name))
        }
        #expect(try ModBundle.read(folder, id: "Sampled.pedalboard").plugins.first?.patch == sampler.patch)
    }
}
