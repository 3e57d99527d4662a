import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// Plugins and wires with no bridge running: the catalogue answers from lilv, everything is
/// checked before the bridge would be called, and calls that need the bridge fail fast.
@Suite(.timeLimit(.minutes(1))) struct PluginMethodTests {
    @Test func theCatalogueComesFromLilv() async throws {
        let session = try await SessionHarness.start()
        let available = try await session.call("get_available_plugins")
        let listed = try #require(available["plugins"]?[SessionHarness.amp])
        #expect(listed["name"] == "Simple amplifier")
        #expect(listed["ports"]?["control"]?["input"] == 1, "a list entry counts ports")
        #expect(listed["brand"] == "Steve Harris")
        #expect(listed["category"] == ["Amplifier"])
        // Details come on demand, as mod-ui's get_plugin_info does.
        func detail(_ uri: String) async throws -> JSONValue? {
            try await session.call("get_plugin_info_by_uri", ["uri": .string(uri)])["plugin"]
        }
        let amp = try #require(try await detail(SessionHarness.amp))
        #expect(amp["ports"]?["control_inputs"] == ["gain"])
        #expect(amp["ports"]?["audio_inputs"] == ["input"])
        let gain = try #require(amp["parameters"]?.arrayValue?.first)
        #expect(gain["min"] == -70.0)
        #expect(gain["max"] == 70.0)
        let rePsycho = try #require(try await detail("http://drobilla.net/plugins/mda/RePsycho"))
        #expect(rePsycho["parameters"]?.arrayValue?.contains { $0["units"] == "ct" } == true)
        let leslie = try #require(try await detail(SessionHarness.leslie))
        #expect(leslie["presets"]?.arrayValue?.count == 3)

        let list = try await session.call("list_plugins")
        let entries = try #require(list["plugins"]?.arrayValue)
        #expect(entries.count == available["plugins"]?.objectValue?.count)
        #expect(entries.contains { $0["uri"] == .string(SessionHarness.overdrive) })

        let bulk = try await session.call("get_plugins_bulk", ["uris": [.string(SessionHarness.amp), "urn:nope"]])
        #expect(bulk["plugins"]?[SessionHarness.amp]?["name"] == "Simple amplifier")
        #expect(bulk["plugins"]?["urn:nope"] == nil, "every entry is a whole plugin")
        #expect(bulk["missing"] == ["urn:nope"])
        // The fields mod-ui's web client requires of each entry (its PluginDetailInfo model).
        let entry = try #require(bulk["plugins"]?[SessionHarness.amp]?.objectValue)
        for field in [
            "uri", "name", "ports", "presets", "category", "microVersion", "minorVersion", "release", "stability",
            "author", "brand", "label", "license", "comment", "version", "bundles", "gui",
        ] {
            #expect(entry[field] != nil, "get_plugins_bulk lacks \(field)")
        }
        #expect(entry["bundles"]?.arrayValue?.count == 1)
        #expect(["experimental", "testing", "stable"].contains(entry["stability"]?.stringValue ?? ""))
        try await session.fails("get_plugins_bulk", ["uris": []], .invalidParameters)
        try await session.fails("get_plugins_bulk", [:], .invalidParameters)

        let info = try await session.call("get_plugin_info_by_uri", ["uri": .string(SessionHarness.overdrive)])
        #expect(info["plugin"]?["ports"]?["control_inputs"] == ["drive", "muffle", "output"])
        try await session.fails("get_plugin_info_by_uri", ["uri": "urn:nope"], .pluginNotFound)
        #expect(
            try await session.call("rescan_plugins")["count"]
                == available["plugins"]?.objectValue.map { .int($0.count) }
        )
        await session.stop()
    }

    /// Unknown URIs and bad values are refused before the bridge; valid loads need the bridge and
    /// get BRIDGE_ERROR at once (the configured 5 s timeout × 6 tries is never waited out).
    @Test func loadsAreCheckedFirstAndFailFastWithoutABridge() async throws {
        let session = try await SessionHarness.start()
        try await session.fails("load_plugin", ["uri": "urn:nope"], .pluginNotFound)
        try await session.fails("add_plugin", ["uri": "urn:nope", "x": 1, "y": 2], .pluginNotFound)
        try await session.fails(
            "load_plugin",
            ["uri": .string(SessionHarness.amp), "parameters": ["gain": 71]],
            .invalidParameters
        )
        try await session.fails(
            "load_plugin",
            ["uri": .string(SessionHarness.amp), "parameters": ["nosuch": 1]],
            .invalidParameters
        )
        try await session.fails(
            "load_plugin",
            ["uri": .string(SessionHarness.amp), "parameters": ["gain": "loud"]],
            .invalidParameters
        )
        try await session.fails("load_plugin", [:], .invalidParameters)
        let clock = ContinuousClock()
        let started = clock.now
        try await session.fails("load_plugin", ["uri": .string(SessionHarness.amp), "x": 10, "y": 20], .bridgeError)
        try await session.fails("add_plugin", ["uri": .string(SessionHarness.overdrive)], .bridgeError)
        #expect(clock.now - started < .seconds(2))
        #expect(try await session.call("list_instances")["count"] == 0)
        try await session.fails("unload_plugin", ["instance_id": "plugin_0"], .instanceNotFound)
        try await session.fails("get_plugin_info", ["instance_id": "plugin_0"], .instanceNotFound)
        await session.stop()
    }

    /// A session restored from disk has instances even with no bridge: they can be read, moved,
    /// range-checked, wired (checked) and snapshotted; anything that would change the host fails fast.
    @Test func restoredInstancesAreCheckedAgainstTheirPorts() async throws {
        let data = SessionHarness.makeDataDirectory()
        try SessionHarness.seedSession(
            data: data,
            plugins: [
                SessionHarness.ampInstance(gain: 6, hostNumber: 3),
                PluginInstance(instanceID: "drive", uri: SessionHarness.overdrive, name: "Overdrive", hostNumber: 4),
                PluginInstance(instanceID: "leslie", uri: SessionHarness.leslie, name: "Leslie", hostNumber: 5),
            ],
            connections: [
                Connection(
                    connectionID: "w1",
                    sourcePlugin: "amp",
                    sourcePort: "output",
                    targetPlugin: "drive",
                    targetPort: "left_in"
                )
            ]
        )
        let session = try await SessionHarness.start(data: data)

        let instances = try await session.call("list_instances")
        #expect(instances["instances"]?["instances"]?["amp"]?["uri"] == .string(SessionHarness.amp))
        #expect(instances["count"] == 3)
        let amp = try await session.call("get_plugin_info", ["instance_id": "amp"])
        #expect(amp["plugin"]?["parameters"]?["gain"] == 6.0)
        #expect(amp["plugin"]?["host_instance"] == 3)
        #expect(
            try await session.call("get_plugin_info", ["instance_id": "drive"])["plugin"]?["parameters"]?["output"]
                == 0.5
        )

        // Range-checked against the plugin's own ports before anything is sent.
        try await session.refusesAmpTurnsOutOfItsPorts()
        try await session.fails(
            "set_parameter",
            ["instance_id": "amp", "parameter": "gain", "value": "x"],
            .invalidParameters
        )
        try await session.fails("set_parameter", ["instance_id": "amp", "value": 1], .invalidParameters)
        try await session.fails(
            "set_parameter",
            ["instance_id": "ghost", "parameter": "gain", "value": 1],
            .instanceNotFound
        )
        try await session.fails(
            "set_parameter",
            ["instance_id": "amp", "parameter": "gain", "value": 12],
            .bridgeError
        )
        try await session.fails("set_parameter", ["instance_id": "amp", "port": "gain", "value": 12], .bridgeError)

        // Without the bridge, a value is read from the session's record and says so.
        let value = try await session.call("get_parameter", ["instance_id": "amp", "port": "gain"])
        #expect(value["value"] == ["parameter": "gain", "value": 6.0])
        #expect(value["source"] == "session")
        #expect(
            try await session.call("get_parameter", ["instance_id": "amp", "parameter": "gain"])["current_value"] == 6.0
        )
        try await session.fails("get_parameter", ["instance_id": "amp", "port": "input"], .invalidParameters)

        _ = try await session.call("set_plugin_position", ["instance_id": "amp", "x": 100, "y": 50])
        #expect(try await session.call("get_plugin_info", ["instance_id": "amp"])["plugin"]?["x"] == 100.0)
        try await session.fails("set_bypass", ["instance_id": "amp", "bypass": true], .bridgeError)
        try await session.fails("bypass_plugin", ["instance_id": "amp", "enabled": false], .bridgeError)
        try await session.fails("set_bypass", ["instance_id": "amp"], .invalidParameters)
        try await session.fails("unload_plugin", ["instance_id": "amp"], .bridgeError)
        try await session.fails("remove_plugin", ["instance_id": "drive"], .bridgeError)

        // Wires: ends checked against real symbols and directions first.
        #expect(try await session.call("list_connections")["connections"]?.arrayValue?.first?["connection_id"] == "w1")
        #expect(try await session.call("get_connections")["count"] == 1)
        try await session.fails(
            "create_connection",
            ["source_plugin": "amp", "source_port": "input", "target_plugin": "drive", "target_port": "left_in"],
            .invalidParameters
        )
        try await session.fails(
            "create_connection",
            ["source": "amp:output", "target": "drive:left_out"],
            .invalidParameters
        )
        try await session.fails("create_connection", ["source": "amp:output", "target": "ghost:in"], .instanceNotFound)
        try await session.fails(
            "create_connection",
            ["source": "system:capture_1", "target": "amp:input"],
            .bridgeError
        )
        // The existing wire is returned as it is, no host call needed.
        #expect(
            try await session.call("create_connection", ["source": "amp:output", "target": "drive:left_in"])[
                "connection_id"
            ] == "w1"
        )
        try await session.fails("remove_connection", ["connection_id": "w1"], .bridgeError)
        try await session.fails("remove_connection", ["connection_id": "nope"], .notFound)
        #expect(
            try await session.call("get_jack_connections")["connections"] == [["effect_3:output", "effect_4:left_in"]]
        )

        // Presets: user presets are kept by the session.
        let preset = try await session.call("save_preset", ["instance_id": "amp", "label": "Loud"])
        let presetURI = try #require(preset["preset"]?["uri"]?.stringValue)
        let shown = try await session.call("show_presets", ["uri": .string(SessionHarness.amp)])
        #expect(shown["presets"]?.arrayValue?.first?["label"] == "Loud")
        #expect(try await session.call("show_presets", ["instance_id": "amp"])["presets"] == shown["presets"])
        try await session.fails("load_preset", ["instance_id": "amp", "preset_uri": .string(presetURI)], .bridgeError)
        try await session.fails("show_presets", ["uri": "urn:nope"], .pluginNotFound)
        try await session.fails("load_preset", ["instance_id": "amp", "preset_uri": "urn:not-a-preset"], .notFound)

        // LV2 presets come from lilv; loading one needs the host.
        let shipped = try await session.call("show_presets", ["uri": .string(SessionHarness.leslie)])
        let presets = try #require(shipped["presets"]?.arrayValue)
        #expect(presets.count == 3)
        #expect(presets.allSatisfy { $0["user"] == false })
        try await session.fails(
            "load_preset",
            ["instance_id": "leslie", "preset_uri": presets[0]["uri"] ?? .null],
            .bridgeError
        )
        await session.stop()
    }
}
