import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// Pedalboards as Marlise's web client (mod-ui's shape) names and reads them: by bundle path, with
/// the fields its pydantic models require, through the methods its routers call.
@Suite(.timeLimit(.minutes(1))) struct WebClientPedalboardTests {
    /// `PedalboardInfo`'s required fields.
    static let listFields = ["title", "bundlepath", "broken", "factory", "hasScreenshot"]

    @Test func saveListInfoSaveAsLoadRemoveByBundlePath() async throws {
        let session = try await SessionHarness.start()
        _ = try await session.call("create_pedalboard", ["name": "Draft"])

        // Save with a title (the web client's form field), then as a new board.
        let saved = try await session.call("save_current_pedalboard", ["title": "Verse", "as_new": 0])
        let first = try #require(saved["bundlepath"]?.stringValue)
        #expect(saved["title"] == "Verse")
        let copy = try await session.call("save_current_pedalboard", ["title": "Chorus", "as_new": 1])
        let second = try #require(copy["bundlepath"]?.stringValue)
        #expect(second != first, "as_new writes another board")
        #expect(try session.pedalboardFiles().count == 2)

        let list = try #require(try await session.call("get_pedalboard_list")["pedalboards"]?.arrayValue)
        #expect(Set(list.compactMap { $0["title"]?.stringValue }) == ["Verse", "Chorus"])
        for entry in list {
            for field in Self.listFields { #expect(entry[field] != nil, "get_pedalboard_list lacks \(field)") }
            #expect(entry["broken"] == false)
        }

        let info = try await session.call("get_pedalboard_info", ["bundlepath": .string(first)])
        #expect(info["title"] == "Verse")
        #expect(info["plugins"] == [])
        #expect(info["connections"] == [])
        #expect(info["hardware"]?.objectValue != nil)

        let loaded = try await session.call(
            "load_pedalboard_bundle",
            ["bundlepath": .string(first), "is_default": "0"]
        )
        #expect(loaded["name"] == "Verse")
        #expect(try await session.call("get_current_pedalboard")["pedalboard"]?["name"] == "Verse")

        _ = try await session.call("remove_pedalboard", ["bundlepath": .string(second)])
        #expect(try session.pedalboardFiles().count == 1)
        try await session.fails("get_pedalboard_info", ["bundlepath": .string(second)], .notFound)
        await session.stop()
    }

    @Test(arguments: [
        "/etc/passwd", "../pedalboards/x.json", "/tmp/x.json", "", "PEDALBOARDS/../../etc/passwd.json",
        "PEDALBOARDS/.json", "PEDALBOARDS/a b.json", "PEDALBOARDS/x.ttl",
    ])
    func aBundlePathOutsideTheFolderIsRefusedAndNothingIsTouched(_ trick: String) async throws {
        let session = try await SessionHarness.start()
        _ = try await session.call("create_pedalboard", ["name": "Kept"])
        let path = trick.replacingOccurrences(of: "PEDALBOARDS", with: session.pedalboardsFolder)
        for method in ["get_pedalboard_info", "remove_pedalboard", "load_pedalboard_bundle"] {
            try await session.fails(method, ["bundlepath": .string(path)], .invalidParameters)
        }
        #expect(try session.pedalboardFiles().count == 1)
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
        await session.stop()
    }

    @Test func aBoardWhosePluginsAreMissingListsAsBroken() async throws {
        let session = try await SessionHarness.start()
        // A v1 board dropped into the folder while the service runs.
        let board: JSONValue = [
            "id": "dropped", "name": "From elsewhere", "_schema_version": 1,
            "plugins": [
                [
                    "instance_id": "p1", "uri": "urn:not:installed", "name": "Ghost", "parameters": [:],
                    "enabled": true, "x": 0, "y": 0,
                ]
            ],
            "connections": [],
        ]
        try Data(board.jsonText.utf8).write(to: URL(fileURLWithPath: "\(session.pedalboardsFolder)/dropped.json"))
        let list = try #require(try await session.call("get_pedalboard_list")["pedalboards"]?.arrayValue)
        let entry = try #require(list.first { $0["id"] == "dropped" })
        #expect(entry["broken"] == true)
        #expect(entry["missing_plugins"] == ["urn:not:installed"])
        #expect(entry["title"] == "From elsewhere")
        await session.stop()
    }

    @Test func presetsSavedByTheWebClientAreListedAndReplacedByURI() async throws {
        let session = try await SessionHarness.start(restoring: [SessionHarness.ampInstance(gain: -3, hostNumber: 0)])
        let uri = "preset://amp/Quiet"
        // The web client's save_new, then save_replace of the same preset.
        _ = try await session.call(
            "save_preset",
            ["instance_id": "amp", "uri": .string(uri), "label": "Quiet", "directory": ""]
        )
        _ = try await session.call(
            "save_preset",
            ["instance_id": "amp", "uri": .string(uri), "label": "Quieter", "directory": ""]
        )
        let info = try await session.call("get_plugin_info_by_uri", ["uri": .string(SessionHarness.amp)])
        let user = info["plugin"]?["presets"]?.arrayValue?.filter { $0["uri"] == .string(uri) } ?? []
        #expect(user == [["uri": .string(uri), "label": "Quieter"]], "listed once, replaced in place")
        let bulk = try await session.call("get_plugins_bulk", ["uris": [.string(SessionHarness.amp)]])
        #expect(
            bulk["plugins"]?[SessionHarness.amp]?["presets"]?.arrayValue?.contains { $0["uri"] == .string(uri) } == true
        )
        try await session.fails("save_preset", ["instance_id": "amp", "uri": "", "label": "x"], .invalidParameters)
        await session.stop()
    }

    /// Found walking the web client: a save after its Reset wrote over the board loaded before.
    @Test func aSaveAfterAResetMakesANewBoard() async throws {
        let session = try await SessionHarness.start()
        _ = try await session.call("create_pedalboard", ["name": "Walk"])
        _ = try await session.call("save_current_pedalboard", ["title": "Walk"])
        _ = try await session.call("reset_session")
        #expect(try await session.call("get_current_pedalboard")["saved"] == false)
        _ = try await session.call("save_current_pedalboard", ["title": "Fresh", "as_new": 0])
        let titles = try await session.call("get_pedalboard_list")["pedalboards"]?.arrayValue?.compactMap {
            $0["title"]?.stringValue
        }
        #expect(Set(titles ?? []) == ["Walk", "Fresh"])
        await session.stop()
    }

    @Test func theSmallerMethodsAnswerAsDocumented() async throws {
        let session = try await SessionHarness.start()
        #expect(try await session.client.call("echo", params: ["a": 1])["echo"] == ["a": 1])
        let health = try await session.call("health_check")
        #expect(health["service"] == "session_manager")
        #expect(health["status"]?.stringValue != nil && health["version"]?.stringValue != nil)
        let ping = try await session.call("ping_hmi")
        #expect(ping["ihm_online"] == false)
        try await session.fails("set_truebypass", ["channel": "1", "state": true], .notSupported)
        try await session.fails("uninstall_package", ["packages": ["x"]], .notSupported)
        #expect(try await session.call("list_snapshots")["snapshots"] == [:])
        #expect((try await session.call("get_metrics")["num_threads"]?.intValue ?? 0) > 1)
        await session.stop()
    }
}
