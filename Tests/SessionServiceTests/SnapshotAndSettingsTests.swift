import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// Snapshots stored inside their pedalboard's file; banks, favourites and config kept by the
/// session; the refused administration calls.
@Suite(.timeLimit(.minutes(1))) struct SnapshotAndSettingsTests {
    @Test func snapshotsLiveInThePedalboardFile() async throws {
        let session = try await SessionHarness.start(restoring: [SessionHarness.ampInstance(gain: -3, hostNumber: 0)])
        try await session.fails("save_snapshot_as", [:], .invalidParameters)
        let first = try await session.call("save_snapshot_as", ["title": "Verse"])
        let id = try #require(first["id"]?.stringValue)
        #expect(first["snapshot"]?["plugin_states"]?["amp"]?["gain"] == -3.0)
        let second = try await session.call("create_snapshot", ["name": "Chorus"])
        #expect(second["id"] != first["id"])
        let third = try await session.call("save_snapshot")  // over the current snapshot (Chorus)
        #expect(third["id"] == second["id"])
        _ = try await session.call("save_snapshot", ["name": "Bridge"])

        let stored = try JSONValue(
            parsing: Data(contentsOf: URL(fileURLWithPath: "\(session.data)/pedalboards/seeded-board.json"))
        )
        #expect(stored["snapshots"]?.arrayValue?.map { $0["name"] } == ["Verse", "Chorus", "Bridge"])
        #expect(stored["plugins"]?.arrayValue?.first?["parameters"]?["gain"] == -3.0)

        let list = try await session.call("list_snapshots")
        #expect(list["list"]?.arrayValue?.count == 3)
        #expect(list["snapshots"]?[id] == "Verse", "mod-ui's shape: {id: name}")
        #expect(list["snapshots"]?.objectValue?.count == 3)
        _ = try await session.call("rename_snapshot", ["id": .string(id), "title": "Intro"])
        #expect(try await session.call("get_snapshot_name", ["id": .string(id)])["name"] == "Intro")
        #expect(try await session.call("get_snapshot_name", ["id": .int(Int(id) ?? -1)])["name"] == "Intro")
        // Applying sets values in the host: no bridge, no change.
        try await session.fails("apply_snapshot", ["id": .string(id)], .bridgeError)
        try await session.fails("load_snapshot", ["id": .string(id)], .bridgeError)
        try await session.fails("apply_snapshot", ["id": "999"], .notFound)
        _ = try await session.call("remove_snapshot", ["id": .string(id)])
        try await session.fails("get_snapshot_name", ["id": .string(id)], .notFound)
        try await session.fails("remove_snapshot", [:], .invalidParameters)
        let after = try JSONValue(
            parsing: Data(contentsOf: URL(fileURLWithPath: "\(session.data)/pedalboards/seeded-board.json"))
        )
        #expect(after["snapshots"]?.arrayValue?.map { $0["name"] } == ["Chorus", "Bridge"])
        await session.stop()
    }

    /// Found walking the web client: a value never turned was left out of the snapshot, so applying
    /// it did not put that value back after it was turned.
    @Test func aSnapshotHoldsEveryValueDefaultsIncluded() async throws {
        let drive = PluginInstance(
            instanceID: "od",
            uri: SessionHarness.overdrive,
            name: "Overdrive",
            parameters: ["drive": 0.7],
            hostNumber: 0
        )
        let session = try await SessionHarness.start(restoring: [drive])
        let info = try #require(SessionHarness.catalogue.plugin(uri: SessionHarness.overdrive))
        let controls = info.ports.filter { $0.kind == .control && $0.direction == .input }
        #expect(controls.count >= 3)
        let created = try await session.call("create_snapshot", ["name": "Clean"])
        let stored = try #require(created["snapshot"]?["plugin_states"]?["od"]?.objectValue)
        #expect(Set(stored.keys) == Set(controls.map(\.symbol)))
        #expect(stored["drive"] == .double(0.7))
        for port in controls where port.symbol != "drive" {
            #expect(stored[port.symbol]?.doubleValue == port.defaultValue, "\(port.symbol)")
        }
        await session.stop()
    }

    @Test func snapshotsNeedAPedalboard() async throws {
        let session = try await SessionHarness.start()
        try await session.fails("create_snapshot", ["name": "x"], .notFound)
        try await session.fails("save_snapshot", [:], .notFound)
        try await session.fails("save_pedalboard", [:], .notFound)
        #expect(try await session.call("list_snapshots")["snapshots"] == [:])
        #expect(try await session.call("get_current_pedalboard")["pedalboard"] == .null)
        await session.stop()
    }

    @Test func banksFavoritesAndConfigSurviveARestart() async throws {
        let data = SessionHarness.makeDataDirectory()
        var session = try await SessionHarness.start(data: data)
        _ = try await session.call("save_banks", ["banks": [["title": "Gig", "pedalboards": ["a"]]]])
        try await session.fails("save_banks", ["banks": [1]], .invalidParameters)
        try await session.fails("save_banks", ["banks": "x"], .invalidParameters)
        _ = try await session.call("add_favorite", ["uri": .string(SessionHarness.amp)])
        _ = try await session.call("add_favorite", ["uri": .string(SessionHarness.overdrive)])
        _ = try await session.call("remove_favorite", ["uri": .string(SessionHarness.overdrive)])
        try await session.fails("add_favorite", ["uri": "urn:nope"], .pluginNotFound)
        try await session.fails("remove_favorite", ["uri": "urn:nope"], .notFound)
        _ = try await session.call("set_config", ["key": "theme", "value": ["dark": true]])
        _ = try await session.call("set_config", ["key": "volume", "value": 3])
        try await session.fails("set_config", ["key": "a\u{0}", "value": 1], .invalidParameters)
        try await session.fails(
            "set_config",
            ["key": "big", "value": .string(String(repeating: "x", count: 70_000))],
            .invalidParameters
        )
        try await session.fails("set_config", ["key": "novalue"], .invalidParameters)
        #expect(try await session.call("get_config", ["key": "absent"])["value"] == .null)
        await session.stop(removingData: false)

        session = try await SessionHarness.start(data: data)
        #expect(try await session.call("get_banks")["banks"] == [["title": "Gig", "pedalboards": ["a"]]])
        #expect(try await session.call("get_favorites")["favorites"] == [.string(SessionHarness.amp)])
        #expect(try await session.call("get_config", ["key": "theme"])["value"] == ["dark": true])
        #expect(try await session.call("get_config")["config"]?["volume"] == 3)
        _ = try await session.call("reset_config")
        #expect(try await session.call("get_config", ["key": "theme"])["value"] == .null)
        await session.stop()
    }

    @Test(arguments: [
        "shutdown", "reboot", "install_package", "install_update", "switch_cpu_frequency", "login", "logout",
        "upload_file", "download_file", "delete_file", "list_files", "remove_package", "get_user_info", "clear_logs",
        "get_logs",
    ])
    func administrationIsRefused(_ method: String) async throws {
        let session = try await SessionHarness.start()
        try await session.fails(method, ["package_name": "evil", "filename": "/etc/passwd"], .notSupported)
        #expect(try await session.client.call("echo", params: ["still": "here"])["echo"] == ["still": "here"])
        await session.stop()
    }
}
