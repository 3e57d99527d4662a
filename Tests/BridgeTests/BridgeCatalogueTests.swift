import Bridge
import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Plugin methods answered from the real LV2 catalogue (lilv over the Debian swh and mda bundles).
@Suite(.serialized, .timeLimit(.minutes(2))) struct BridgeCatalogueTests {
    static let leslie = "http://drobilla.net/plugins/mda/Leslie"

    @Test func availablePluginsSearchAndEssentials() async throws {
        let harness = try await BridgeHarness()
        let all = try await harness.call(#"{"action":"plugin","method":"get_available_plugins"}"#)
        let amp = try #require(all["plugins"]?[BridgeRequestTests.amp])
        #expect(amp["name"] == "Simple amplifier")
        #expect(amp["ports"]?["control_inputs"]?.arrayValue?.first?["symbol"] == "gain")
        #expect(amp["ports"]?["audio_inputs"]?.arrayValue?.count == 1)
        // List entries on request: ports counted, not described; every plugin, fewer bytes.
        let listed = try await harness.call(#"{"action":"plugin","method":"get_available_plugins","shape":"list"}"#)
        let ampEntry = try #require(listed["plugins"]?[BridgeRequestTests.amp])
        #expect(ampEntry["name"] == "Simple amplifier")
        #expect(ampEntry["ports"]?["audio"]?["input"] == 1)
        #expect(ampEntry["ports"]?["control"]?["input"] == 1)
        #expect(ampEntry["presets"] == nil)
        #expect(listed["plugins"]?.objectValue?.count == all["plugins"]?.objectValue?.count)
        #expect(listed.serialized().count * 3 < all.serialized().count)

        let search = try await harness.call(#"{"action":"plugin","method":"search_plugins","query":"limiter"}"#)
        let found = try #require(search["plugins"]?.arrayValue)
        #expect(!found.isEmpty)
        #expect(
            found.allSatisfy {
                ($0["uri"]?.stringValue ?? "").lowercased().contains("limit")
                    || ($0["name"]?.stringValue ?? "").lowercased().contains("limit")
            }
        )
        let stereo = try await harness.call(
            #"{"action":"plugin","method":"search_plugins","criteria":{"min_audio_inputs":2,"has_parameter":"drive"}}"#
        )
        let stereoURIs = stereo["plugins"]?.arrayValue?.compactMap { $0["uri"]?.stringValue } ?? []
        #expect(stereoURIs.contains("http://drobilla.net/plugins/mda/Overdrive"))
        #expect(!stereoURIs.contains(BridgeRequestTests.amp))

        let essentials = try await harness.call(
            ["action": "plugin", "method": "get_plugin_essentials", "plugin_uri": .string(BridgeRequestTests.amp)]
        )
        let gain = try #require(essentials["essentials"]?["control_inputs"]?.arrayValue?.first)
        #expect(gain["symbol"] == "gain")
        #expect(gain["minimum"] == -70.0)
        #expect(gain["maximum"] == 70.0)
        let missing = try await harness.call(
            #"{"action":"plugin","method":"get_plugin_essentials","plugin_uri":"http://example.org/nope"}"#
        )
        #expect(missing["code"] == "NOT_FOUND")
        await harness.stop()
    }

    /// Bug 11: presets were always empty, `load_preset` unimplemented, `validate_preset` always true.
    @Test func presetsAreRealAndLoadThroughModHost() async throws {
        let harness = try await BridgeHarness()
        try await harness.waitFor(status: "healthy")
        let presets = try await harness.call(
            ["action": "plugin", "method": "get_plugin_presets", "plugin_uri": .string(Self.leslie)]
        )
        let list = try #require(presets["presets"]?.arrayValue)
        #expect(list.count == 3, "\(presets.jsonText)")
        let slow = try #require(list.first { $0["label"] == "Slow" }?["uri"]?.stringValue)
        #expect(
            try await harness.call(
                [
                    "action": "plugin", "method": "validate_preset", "plugin_uri": .string(Self.leslie),
                    "preset_uri": .string(slow),
                ]
            )["is_valid"] == true
        )
        #expect(
            try await harness.call(
                [
                    "action": "plugin", "method": "validate_preset", "plugin_uri": .string(Self.leslie),
                    "preset_uri": "http://example.org/nopreset",
                ]
            )["is_valid"] == false
        )

        let loaded = try await harness.call(["action": "plugin", "method": "load_plugin", "uri": .string(Self.leslie)])
        let id = try #require(loaded["instance_id"]?.stringValue, "\(loaded.jsonText)")
        let applied = try await harness.call(
            [
                "action": "plugin", "method": "load_preset", "plugin_uri": .string(Self.leslie),
                "preset_uri": .string(slow),
            ]
        )
        #expect(applied["instance_id"] == .string(id), "\(applied.jsonText)")
        #expect(harness.scripted.received.contains("preset_load 0 \"\(slow)\""))
        let info = try await harness.call(["action": "plugin", "method": "get_plugin_info", "instance_id": .string(id)])
        #expect(info["plugin"]?["preset"] == .string(slow))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-presets-\(getpid())").path
        let saved = try await harness.call(
            [
                "action": "plugin", "method": "save_preset", "instance_id": .string(id),
                "preset": ["label": "My Slow One", "path": .string(folder)],
            ]
        )
        #expect(saved["bundle_path"] == .string("\(folder)/my-slow-one.preset.lv2"), "\(saved.jsonText)")
        #expect(
            harness.scripted.received.last
                == "preset_save 0 \"My Slow One\" \"\(folder)/my-slow-one.preset.lv2\" my-slow-one.ttl"
        )
        let quoted = try await harness.call(
            [
                "action": "plugin", "method": "save_preset", "instance_id": .string(id),
                "preset": ["label": "a\" 0 x", "path": .string(folder)],
            ]
        )
        #expect(quoted["code"] == "INVALID_PARAMETERS", "a quote in a label cannot end the token")
        await harness.stop()
    }

    @Test func bundlesAndRescan() async throws {
        let harness = try await BridgeHarness()
        let bundle = "/usr/lib/lv2/amp-swh.lv2"
        let loaded = try await harness.call([
            "action": "plugin", "method": "is_bundle_loaded", "bundle_path": .string(bundle),
        ])
        #expect(loaded["is_loaded"] == true)
        let plugins = try await harness.call(
            ["action": "plugin", "method": "list_bundle_plugins", "bundle_path": .string(bundle)]
        )
        #expect(plugins["plugins"] == [.string(BridgeRequestTests.amp)])
        let absent = try await harness.call(
            #"{"action":"plugin","method":"is_bundle_loaded","bundle_path":"/nonexistent.lv2"}"#
        )
        #expect(absent["is_loaded"] == false)
        try await harness.waitFor(status: "healthy")
        let added = try await harness.call(["action": "plugin", "method": "add_bundle", "bundle_path": .string(bundle)])
        #expect(added["plugins"] == [.string(BridgeRequestTests.amp)], "\(added.jsonText)")
        #expect(harness.scripted.received.last == "bundle_add \"\(bundle)\"")
        let removed = try await harness.call(
            ["action": "plugin", "method": "remove_bundle", "bundle_path": .string(bundle)]
        )
        #expect(removed["success"] == true)
        #expect(harness.scripted.received.last == "bundle_remove \"\(bundle)\"")
        let nowhere = try await harness.call(
            #"{"action":"plugin","method":"add_bundle","bundle_path":"/nonexistent.lv2"}"#
        )
        #expect(nowhere["code"] == "INVALID_PARAMETERS")
        let rescan = try await harness.call(#"{"action":"plugin","method":"rescan_plugins"}"#)
        #expect((rescan["count"]?.intValue ?? 0) > 100)
        _ = try await harness.nextEvent("plugins_rescanned")
        await harness.stop()
    }
}
