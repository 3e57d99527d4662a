import Foundation
import Messaging
import SessionService
import Testing

/// Each answer the web client's routers read, checked against the fields and types its pydantic
/// models require (`PluginInfo`, `PluginDetailInfo`, `PedalboardInfo`, `PedalboardDetailInfo`,
/// `SnapshotSaveAsResponse`, `SnapshotListResponse`, `SnapshotNameResponse`, `UserFile`,
/// `PedalboardLoadResponse`, `PedalboardSaveResponse`): a missing field or a wrong type there is
/// an HTTP 500 in the user's browser.
@Suite(.timeLimit(.minutes(1))) struct WebAPIShapeTests {
    enum Kind: CustomStringConvertible {
        case string, bool, int, list, object, strings, pairs, stringMap

        func matches(_ value: JSONValue?) -> Bool {
            guard let value else { return false }
            switch self {
            case .string: return value.stringValue != nil
            case .bool: return value.boolValue != nil
            case .int: return value.intValue != nil || value.stringValue.flatMap { Int($0) } != nil
            case .list: return value.arrayValue != nil
            case .object: return value.objectValue != nil
            case .strings: return value.arrayValue?.allSatisfy { $0.stringValue != nil } == true
            case .pairs:
                return value.arrayValue?.allSatisfy {
                    $0.arrayValue?.count == 2 && $0.arrayValue?.allSatisfy { $0.stringValue != nil } == true
                } == true
            case .stringMap: return value.objectValue?.values.allSatisfy { $0.stringValue != nil } == true
            }
        }

        var description: String { "\(self)" }
    }

    static func expectShape(
        _ value: JSONValue?,
        _ fields: [String: Kind],
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (field, kind) in fields.sorted(by: { $0.key < $1.key }) {
            #expect(
                kind.matches(value?[field]),
                "\(what).\(field) should be \(kind): \(value?[field]?.jsonText.prefix(120) ?? "missing")",
                sourceLocation: sourceLocation
            )
        }
    }

    static let pluginInfo: [String: Kind] = [
        "uri": .string, "name": .string, "category": .strings, "version": .string, "microVersion": .int,
        "minorVersion": .int, "release": .int, "builder": .string,
    ]
    static let pluginDetail: [String: Kind] = pluginInfo.merging([
        "ports": .object, "presets": .list, "stability": .string, "author": .object, "brand": .string, "label": .string,
        "license": .string, "comment": .string, "bundles": .strings, "gui": .object,
    ]) { $1 }

    @Test func everyAnswerFitsTheWebClientsModels() async throws {
        let session = try await SessionHarness.start(restoring: [SessionHarness.ampInstance(gain: -3, hostNumber: 0)])

        let plugins = try #require(try await session.call("list_plugins")["plugins"]?.arrayValue)
        #expect(plugins.count > 50, "swh and mda are installed")
        for plugin in plugins { Self.expectShape(plugin, Self.pluginInfo, "list_plugins[\(plugin["uri"] ?? "")]") }
        let info = try await session.call("get_plugin_info_by_uri", ["uri": .string(SessionHarness.amp)])
        Self.expectShape(info["plugin"], Self.pluginDetail, "get_plugin_info_by_uri")
        let bulk = try await session.call("get_plugins_bulk", ["uris": [.string(SessionHarness.amp)]])
        Self.expectShape(bulk["plugins"]?[SessionHarness.amp], Self.pluginDetail, "get_plugins_bulk")

        let saved = try await session.call("save_current_pedalboard", ["title": "Shapes", "as_new": 1])
        Self.expectShape(saved, ["bundlepath": .string, "title": .string], "save_current_pedalboard")
        let bundlepath = try #require(saved["bundlepath"]?.stringValue)
        let list = try #require(try await session.call("get_pedalboard_list")["pedalboards"]?.arrayValue)
        #expect(list.count == 2, "the board the session restored, and this one")
        for entry in list {
            Self.expectShape(
                entry,
                ["title": .string, "bundlepath": .string, "broken": .bool, "factory": .bool, "hasScreenshot": .bool],
                "get_pedalboard_list[]"
            )
        }
        let detail = try await session.call("get_pedalboard_info", ["bundlepath": .string(bundlepath)])
        Self.expectShape(
            detail,
            [
                "title": .string, "plugins": .list, "connections": .pairs, "hardware": .object, "width": .int,
                "height": .int,
            ],
            "get_pedalboard_info"
        )
        let copy = try await session.call(
            "factory_copy_pedalboard",
            ["bundlepath": .string(bundlepath), "title": "Two"]
        )
        Self.expectShape(
            copy,
            ["bundlepath": .string, "plugins": .list, "connections": .pairs],
            "factory_copy_pedalboard"
        )

        let snapshot = try await session.call("save_snapshot_as", ["title": "Verse"])
        Self.expectShape(snapshot, ["id": .int], "save_snapshot_as")
        let snapshots = try await session.call("list_snapshots")
        Self.expectShape(snapshots, ["snapshots": .stringMap], "list_snapshots")
        #expect(snapshots["snapshots"]?.objectValue?.values.contains("Verse") == true)
        let name = try await session.call("get_snapshot_name", ["id": snapshot["id"] ?? .null])
        Self.expectShape(name, ["name": .string], "get_snapshot_name")
        #expect(name["name"] == "Verse")

        try Data([0]).write(to: URL(fileURLWithPath: "\(session.data)/user-files/Reverb IRs/hall.wav"))
        let files = try #require(try await session.call("list_user_files", ["file_types": ["ir"]])["files"]?.arrayValue)
        #expect(files.count == 1)
        for file in files {
            Self.expectShape(
                file,
                ["fullname": .string, "basename": .string, "filetype": .string],
                "list_user_files[]"
            )
        }
        await session.stop()
    }
}
