import Bridge
import Foundation
import Messaging
import TestSupport
import Testing

/// The request endpoint, over real ZeroMQ sockets, against the scripted mod-host: the C++ bridge's
/// shapes, and each of its defects (docs/protocols/bridge.md, "The C++ bridge's defects") caught.
@Suite(.serialized, .timeLimit(.minutes(2))) struct BridgeRequestTests {
    static let amp = "http://plugin.org.uk/swh-plugins/amp"

    @Test func rawAndStructuredCommandsReturnModHostsReply() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let reply = try await harness.call(#"{"command":"cpu_load"}"#)
        #expect(reply == ["raw": "resp 0 1.1418", "status": "resp 0 1.1418", "success": true])
        let structured = try await harness.call(#"{"name":"cpu_load","args":[]}"#)
        #expect(structured["raw"] == "resp 0 1.1418")
        await harness.stop()
    }

    /// Bug 4: `resp -103` and `not found` were reported as success.
    @Test func modHostErrorsAreErrorReplies() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let symbol = try await harness.call(#"{"command":"param_get 10 nosuch"}"#)
        #expect(symbol["success"] == false)
        #expect(symbol["code"] == "HOST_ERROR")
        #expect(symbol["modhost_code"] == -3)
        #expect(symbol["modhost_error"] == "ERR_INSTANCE_NON_EXISTS")
        #expect(symbol["raw"] == "resp -3")
        let bogus = try await harness.call(#"{"command":"bogus"}"#)
        #expect(bogus["modhost_error"] == "NOT_FOUND")
        #expect(bogus["error"] != nil)
        let few = try await harness.call(#"{"name":"param_set","args":[0]}"#)
        #expect(few["modhost_error"] == "FEW_ARGUMENTS")
        // monitor_output answers resp 0 on failure.
        let monitor = try await harness.call(#"{"command":"monitor_output 5 nosuch"}"#)
        #expect(monitor["success"] == false)
        // So does midi_learn; monitor answers a positive number when it cannot dial.
        #expect(try await harness.call(#"{"command":"midi_learn 5 nosuch 0 1"}"#)["success"] == false)
        #expect(try await harness.call(#"{"command":"monitor 10.9.9.9 5 1"}"#)["success"] == false)
        #expect(try await harness.call(#"{"command":"monitor 127.0.0.1 5 1"}"#)["success"] == true)
        await harness.stop()
    }

    /// Bug 8: a NUL inside a JSON string smuggled a second command in; spaces shifted fields.
    @Test func injectionsAreRefusedAndNothingIsSent() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let before = harness.scripted.received
        let attempts = [
            #"{"command":"param_get 0 gain\u0000remove 0"}"#,
            #"{"command":"cpu_load\nremove 0"}"#,
            #"{"name":"param_get","args":[0,"gain\u0000remove 0"]}"#,
            #"{"name":"param_get","args":[0,"gain remove"]}"#,
            #"{"name":"param_get remove","args":[0]}"#,
            #"{"name":"param_get","args":[0,{"x":1}]}"#,
            #"{"action":"plugin","method":"load_plugin","uri":"http://plugin.org.uk/swh-plugins/amp\" 0\u0000remove 0"}"#,
        ]
        for attempt in attempts {
            let reply = try await harness.call(attempt)
            #expect(reply["code"] == "INVALID_PARAMETERS", "\(attempt) → \(reply.jsonText)")
        }
        #expect(harness.scripted.received == before, "nothing reached mod-host")
        await harness.stop()
    }

    /// `help` and empty commands got no reply from mod-host (1 s timeout in the C++ bridge); `quit`
    /// ended it.
    @Test func commandsModHostNeverAnswersAreRefusedLocally() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let before = harness.scripted.received
        for command in [#""help""#, #""""#, #""quit""#, #""   ""#, #""help me""#] {
            let reply = try await harness.call(#"{"command":\#(command)}"#)
            #expect(reply["code"] == "INVALID_PARAMETERS", "\(command) → \(reply.jsonText)")
        }
        #expect(try await harness.call(#"{"name":"quit","args":[]}"#)["code"] == "INVALID_PARAMETERS")
        #expect(harness.scripted.received == before)
        await harness.stop()
    }

    @Test func malformedRequestsGetTheCppBridgesError() async throws {
        let harness = try await BridgeHarness()
        for request in [#"{"command":["cpu_load"]}"#, "{}", "[1,2]", #""cpu_load""#, "{bad json", ""] {
            let reply = try await harness.call(request)
            #expect(reply["error"]?.stringValue?.hasPrefix("Invalid request format") == true, "\(request)")
            #expect(reply["success"] == false)
        }
        let unknown = try await harness.call(#"{"action":"plugin","method":"frobnicate"}"#)
        #expect(unknown["error"] == "Plugin command failed: Unknown command method: frobnicate")
        #expect(unknown["code"] == "METHOD_NOT_FOUND")
        let missing = try await harness.call(#"{"action":"plugin"}"#)
        #expect(missing["error"] == "Plugin command failed: missing 'method' field")
        await harness.stop()
    }

    /// Bug 3: every instance was mod-host instance 0; a second plugin replaced nothing but hit the
    /// first. Bug 6: `plugin_unloaded` carried a freed URI.
    @Test func eachPluginIsItsOwnModHostInstance() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let first = try await harness.call(["action": "plugin", "method": "load_plugin", "uri": .string(Self.amp)])
        let second = try await harness.call(
            ["action": "plugin", "method": "load_plugin", "uri": .string(Self.amp), "parameters": ["gain": 6]]
        )
        #expect(first["success"] == true, "\(first.jsonText)")
        #expect(second["success"] == true, "\(second.jsonText)")
        let firstID = try #require(first["instance_id"]?.stringValue)
        let secondID = try #require(second["instance_id"]?.stringValue)
        #expect(firstID.hasPrefix("plugin_0_"))
        #expect(secondID.hasPrefix("plugin_1_"))
        #expect(second["plugin"]?["modhost_instance"] == 1)
        #expect(second["plugin"]?["parameters"]?["gain"] == 6.0)
        #expect(harness.state.numbers == [0, 1])
        #expect(harness.scripted.received.contains("add \"\(Self.amp)\" 1"))
        #expect(harness.scripted.received.contains("param_set 1 gain 6"))
        let loaded = try JSONValue.parsed(try await harness.nextEvent("plugin_loaded")[1])
        #expect(loaded["type"] == "plugin_loaded")
        #expect(loaded["data"]?["uri"] == .string(Self.amp))

        let set = try await harness.call(
            [
                "action": "plugin", "method": "set_parameter", "instance_id": .string(secondID), "parameter": "gain",
                "value": -12.5,
            ]
        )
        #expect(set == ["status": "ok", "value": -12.5, "success": true])
        #expect(harness.scripted.received.last == "param_set 1 gain -12.5")

        let unload = try await harness.call(
            ["action": "plugin", "method": "unload_plugin", "instance_id": .string(secondID)]
        )
        #expect(unload["status"] == "ok")
        #expect(harness.state.numbers == [0], "the second plugin went, the first stayed")
        let unloaded = try JSONValue.parsed(try await harness.nextEvent("plugin_unloaded")[1])
        #expect(unloaded["data"] == ["instance_id": .string(secondID), "uri": .string(Self.amp)])

        let list = try await harness.call(#"{"action":"plugin","method":"list_instances"}"#)
        #expect(list["instances"]?.objectValue?.keys.sorted() == [firstID])
        let again = try await harness.call([
            "action": "plugin", "method": "unload_plugin", "instance_id": .string(secondID),
        ])
        #expect(again["code"] == "INSTANCE_NOT_FOUND")
        // Raw commands may name instances by the bridge's id; mod-host sees its number.
        let raw = try await harness.call(["command": .string("param_set \(firstID) gain 3")])
        #expect(raw["success"] == true)
        #expect(harness.scripted.received.last == "param_set 0 gain 3")
        _ = try await harness.call(["command": .string("connect \(firstID):output system:playback_1")])
        #expect(harness.scripted.received.last == "connect effect_0:output system:playback_1")
        await harness.stop()
    }

    @Test func aNumberTakenBeforeTheBridgeStartedIsSkipped() async throws {
        let harness = try await BridgeHarness(state: FakeModHostState(preloaded: [0]))
        try await harness.waitFor(status: "healthy")
        let reply = try await harness.call(["action": "plugin", "method": "load_plugin", "uri": .string(Self.amp)])
        #expect(reply["plugin"]?["modhost_instance"] == 1, "\(reply.jsonText)")
        await harness.stop()
    }

    @Test func unknownPluginsAndBadParametersAreRefusedBeforeAdd() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let before = harness.scripted.received
        let unknown = try await harness.call(
            #"{"action":"plugin","method":"load_plugin","uri":"http://example.org/nope"}"#
        )
        #expect(unknown["code"] == "NOT_FOUND")
        let symbol = try await harness.call(
            ["action": "plugin", "method": "load_plugin", "uri": .string(Self.amp), "parameters": ["nosuch": 1]]
        )
        #expect(symbol["code"] == "INVALID_PARAMETERS")
        let value = try await harness.call(
            ["action": "plugin", "method": "load_plugin", "uri": .string(Self.amp), "parameters": ["gain": "loud"]]
        )
        #expect(value["code"] == "INVALID_PARAMETERS")
        #expect(harness.scripted.received == before)
        await harness.stop()
    }

    /// Bug 5: `get_parameter` returned a cache (0.0 when never set). Bug 7: a missing `parameter` or
    /// `value` sent garbage.
    @Test func getParameterAsksModHostAndMissingFieldsSendNothing() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let loaded = try await harness.call(["action": "plugin", "method": "load_plugin", "uri": .string(Self.amp)])
        let id = try #require(loaded["instance_id"]?.stringValue)
        // Changed behind the bridge's back, as a MIDI-learned control would.
        _ = harness.state.respond("param_set 0 gain 42")
        let value = try await harness.call(
            ["action": "plugin", "method": "get_parameter", "instance_id": .string(id), "parameter": "gain"]
        )
        #expect(value["value"] == 42.0, "\(value.jsonText)")
        #expect(harness.scripted.received.last == "param_get 0 gain")
        let bad = try await harness.call(
            ["action": "plugin", "method": "get_parameter", "instance_id": .string(id), "parameter": "nosuch"]
        )
        #expect(bad["modhost_error"] == "ERR_LV2_INVALID_PARAM_SYMBOL")

        let before = harness.scripted.received
        for request: JSONValue in [
            ["action": "plugin", "method": "set_parameter", "instance_id": .string(id), "parameter": "gain"],
            ["action": "plugin", "method": "set_parameter", "instance_id": .string(id), "value": 1],
            [
                "action": "plugin", "method": "set_parameter", "instance_id": .string(id), "parameter": "gain",
                "value": "loud",
            ],
            ["action": "plugin", "method": "set_parameter", "parameter": "gain", "value": 1],
        ] {
            let reply = try await harness.call(request)
            #expect(reply["code"] == "INVALID_PARAMETERS", "\(request.jsonText) → \(reply.jsonText)")
        }
        #expect(harness.scripted.received == before)
        let info = try await harness.call(["action": "plugin", "method": "get_plugin_info", "instance_id": .string(id)])
        #expect(info["plugin"]?["parameters"]?.objectValue?.keys.sorted() == ["gain"], "no \"\" key")
        await harness.stop()
    }

    /// Bug 2: a connection per command (≈100 ms each); here one pair carries every command.
    @Test func oneConnectionPairCarriesEveryCommand() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        for _ in 0..<50 { _ = try await harness.call(#"{"command":"cpu_load"}"#) }
        #expect(harness.scripted.connections == 1)
        let health = try await harness.healthStatus()
        #expect(health["status"] == "healthy", "no flapping after commands")
        await harness.stop()
    }
}
