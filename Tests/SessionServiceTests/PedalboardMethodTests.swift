import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// Pedalboards through a real ZeroMQ client: one stable MOD bundle each, reads that never write,
/// loads that check before they touch the rig, exports confined to the data folder.
@Suite(.timeLimit(.minutes(1))) struct PedalboardMethodTests {
    @Test func createSaveListRenameDuplicateDelete() async throws {
        let session = try await SessionHarness.start()
        let created = try await session.call("create_pedalboard", ["name": "Live", "description": "Friday"])
        let id = try #require(created["pedalboard_id"]?.stringValue)
        #expect(created["pedalboard"]?["name"] == "Live")
        #expect(id == "Live.pedalboard")
        #expect(try session.pedalboardFiles() == [id])

        // Reads never write: the reference added a file on every get_current_pedalboard.
        for _ in 0..<3 { _ = try await session.call("get_current_pedalboard") }
        #expect(try session.pedalboardFiles() == [id])
        let current = try await session.call("get_current_pedalboard")
        #expect(current["pedalboard"]?["id"] == .string(id))
        #expect(current["saved"] == true)

        // Saving twice keeps one file under the same id.
        let saved = try await session.call("save_pedalboard")
        #expect(saved["saved_id"] == .string(id))
        _ = try await session.call("save_current_pedalboard", ["name": "Live 2"])
        #expect(try session.pedalboardFiles() == [id])
        let onDisk = try PedalboardStore(dataDirectory: session.data).load(id: id)
        #expect(onDisk["name"] == "Live 2")
        #expect(onDisk["description"] == "Friday")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(session.pedalboardsFolder)/\(id)").contains(
                "Live_2.ttl"
            )
        )

        let list = try await session.call("get_pedalboard_list")
        #expect(list["pedalboards"]?.arrayValue?.count == 1)
        #expect(list["pedalboards"]?.arrayValue?.first?["id"] == .string(id))
        #expect(try await session.call("get_pedalboard_info", ["id": .string(id)])["pedalboard"]?["name"] == "Live 2")
        #expect(try await session.call("get_pedalboard_info", ["name": "Live 2"])["id"] == .string(id))

        _ = try await session.call("rename_pedalboard", ["old_name": "Live 2", "new_name": "Gig"])
        #expect(try await session.call("get_current_pedalboard")["pedalboard"]?["name"] == "Gig")
        let copy = try await session.call("duplicate_pedalboard", ["id": .string(id), "new_name": "Gig copy"])
        let copyID = try #require(copy["pedalboard_id"]?.stringValue)
        #expect(copyID != id)
        #expect(try session.pedalboardFiles().count == 2)

        #expect(try await session.call("delete_pedalboard", ["id": .string(copyID)])["deleted_id"] == .string(copyID))
        _ = try await session.call("remove_pedalboard", ["name": "Gig"])
        #expect(try session.pedalboardFiles().isEmpty)
        // The deleted board stays loaded but is no longer saved.
        #expect(try await session.call("get_current_pedalboard")["saved"] == false)
        try await session.fails("delete_pedalboard", ["id": .string(id)], .notFound)
        try await session.fails("load_pedalboard", ["name": "nothing like it"], .notFound)
        try await session.fails("create_pedalboard", ["name": 123], .invalidParameters)
        try await session.fails("create_pedalboard", ["name": ["x"]], .invalidParameters)
        try await session.fails("create_pedalboard", [:], .invalidParameters)
        try await session.fails("create_pedalboard", ["name": "a\u{0}b"], .invalidParameters)
        await session.stop()
    }

    @Test func loadingAnEmptyBoardWorksWithoutTheBridge() async throws {
        let session = try await SessionHarness.start()
        let id = try #require(
            try await session.call("create_pedalboard", ["name": "Empty"])["pedalboard_id"]?.stringValue
        )
        _ = try await session.call("create_pedalboard", ["name": "Other"])
        let loaded = try await session.call("load_pedalboard", ["id": .string(id)])
        #expect(loaded["plugins_loaded"] == 0)
        #expect(try await session.call("get_current_pedalboard")["pedalboard"]?["name"] == "Empty")
        _ = try await session.call("reset_pedalboard")
        _ = try await session.call("reset_session")
        await session.stop()
    }

    /// A reference v1 file with a plugin: read and checked, but loading it needs the host, so with no
    /// bridge it is refused with BRIDGE_ERROR and the current pedalboard is untouched.
    @Test func loadChecksTheFileBeforeTouchingTheRig() async throws {
        let session = try await SessionHarness.start()
        _ = try await session.call("create_pedalboard", ["name": "Current"])
        let folder = session.pedalboardsFolder
        let plugin =
            #"{"uri": "\#(SessionHarness.amp)", "instance_id": "plugin_0_705a1294", "x": 10, "y": 20, "parameters": {"gain": 6}}"#
        try #"{"id": "x", "name": "Ref", "plugins": [\#(plugin)], "connections": [], "_schema_version": 1}"#
            .write(toFile: "\(folder)/ref.json", atomically: true, encoding: .utf8)
        try #"{"name": "Unknown", "plugins": [{"uri": "urn:nope", "instance_id": "a"}]}"#
            .write(toFile: "\(folder)/unknown.json", atomically: true, encoding: .utf8)
        try
            #"{"name": "Range", "plugins": [{"uri": "\#(SessionHarness.amp)", "instance_id": "a", "parameters": {"gain": 70001}}]}"#
            .write(toFile: "\(folder)/range.json", atomically: true, encoding: .utf8)
        try
            #"{"name": "Wires", "plugins": [], "connections": [{"source_plugin": "ghost", "source_port": "output", "target_plugin": "system", "target_port": "playback_1"}]}"#
            .write(toFile: "\(folder)/wires.json", atomically: true, encoding: .utf8)
        try #"{"name": "Broken", "plugins": {"not": "a list"}}"#
            .write(toFile: "\(folder)/broken.json", atomically: true, encoding: .utf8)
        try "{\"name\": ".write(toFile: "\(folder)/truncated.json", atomically: true, encoding: .utf8)

        try await session.fails("load_pedalboard", ["id": "ref"], .bridgeError)
        try await session.fails("load_pedalboard", ["id": "unknown"], .pluginNotFound)
        try await session.fails("load_pedalboard", ["id": "range"], .invalidParameters)
        try await session.fails("load_pedalboard", ["id": "wires"], .storageError)
        try await session.fails("load_pedalboard", ["id": "broken"], .storageError)
        try await session.fails("load_pedalboard", ["id": "truncated"], .storageError)
        #expect(try await session.call("get_current_pedalboard")["pedalboard"]?["name"] == "Current")
        let info = try await session.call("get_pedalboard_info", ["id": "ref"])
        #expect(info["pedalboard"]?["plugins"]?.arrayValue?.count == 1)
        await session.stop()
    }

    @Test func exportAndImportStayInsideTheDataFolder() async throws {
        let session = try await SessionHarness.start()
        let id = try #require(
            try await session.call("create_pedalboard", ["name": "Trip"])["pedalboard_id"]?.stringValue
        )
        let exported = try await session.call("export_pedalboard", ["id": .string(id), "filename": "trip.json"])
        #expect(exported["exported_file"] == .string("\(session.data)/exports/trip.json"))
        _ = try await session.call("export_pedalboard", ["filename": "current"])
        let imported = try await session.call("import_pedalboard", ["filename": "trip"])
        let importedID = try #require(imported["imported_id"]?.stringValue)
        #expect(importedID != id)
        #expect(
            try await session.call("get_pedalboard_info", ["id": .string(importedID)])["pedalboard"]?["name"] == "Trip"
        )

        for outside in ["/tmp/x.json", "../x.json", "../../etc/passwd", ".hidden"] {
            try await session.fails(
                "export_pedalboard",
                ["id": .string(id), "filename": .string(outside)],
                .notSupported
            )
            try await session.fails("import_pedalboard", ["filename": .string(outside)], .notSupported)
        }
        for bad in ["a\u{0}b", String(repeating: "x", count: 10_000), "a b", ""] {
            try await session.fails(
                "export_pedalboard",
                ["id": .string(id), "filename": .string(bad)],
                .invalidParameters
            )
        }
        try await session.fails("import_pedalboard", ["filename": "absent"], .notFound)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/x.json"))
        await session.stop()
    }

    /// Ids never become paths: `../`, `/`, NUL and 10 kB ids are INVALID_PARAMETERS everywhere.
    @Test(arguments: ["../../etc/passwd", "/etc/passwd", "a/b", "..", "a\u{0}b", String(repeating: "x", count: 10_000)])
    func hostileIDs(_ id: String) async throws {
        let session = try await SessionHarness.start()
        _ = try await session.call("create_pedalboard", ["name": "Safe"])
        let value = JSONValue.string(id)
        for (method, params) in [
            ("load_pedalboard", ["id": value]), ("delete_pedalboard", ["id": value]),
            ("remove_pedalboard", ["id": value]), ("get_pedalboard_info", ["id": value]),
            ("rename_pedalboard", ["id": value, "new_name": "x"]),
            ("duplicate_pedalboard", ["id": value, "new_name": "x"]),
            ("export_pedalboard", ["id": value, "filename": "ok"]), ("unload_plugin", ["instance_id": value]),
            ("remove_plugin", ["instance_id": value]), ("get_plugin_info", ["instance_id": value]),
            ("set_parameter", ["instance_id": value, "parameter": "gain", "value": 1]),
            ("get_parameter", ["instance_id": value, "port": "gain"]),
            ("load_plugin", ["uri": .string(SessionHarness.amp), "instance_id": value]),
            ("apply_snapshot", ["id": value]), ("load_snapshot", ["id": value]), ("remove_snapshot", ["id": value]),
            ("rename_snapshot", ["id": value, "title": "x"]), ("get_snapshot_name", ["id": value]),
            ("remove_connection", ["connection_id": value]), ("save_preset", ["instance_id": value, "label": "x"]),
            ("load_preset", ["instance_id": value, "preset_uri": "urn:x"]),
        ] as [(String, [String: JSONValue])] {
            try await session.fails(method, params, .invalidParameters)
        }
        #expect(try session.pedalboardFiles().count == 1)
        await session.stop()
    }
}
