import Foundation
import LV2
import Messaging
import SessionService
import Testing

/// Pedalboards on disk: one stable file each, written durably, never read from a path an id made up.
@Suite struct PedalboardStoreTests {
    /// JSON boards need no plugin list.
    let noPlugins = PluginCatalogue(plugins: [])

    static func store() throws -> (PedalboardStore, String) {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "store-\(getpid())-\(UUID().uuidString.prefix(6))"
        ).path
        return (try PedalboardStore(dataDirectory: data), data)
    }

    /// A v1 file as the reference writes it (Marlise's v1 pedalboard schema).
    static let referenceFile = """
        {
          "id": "2c1a99f6-ab13-420a-9096-49368d5e72ac",
          "name": "System I/O Demo",
          "description": "Demonstrates automatic system I/O management",
          "plugins": [],
          "connections": [],
          "created_at": "2025-10-03T18:48:39.975822",
          "modified_at": "2025-10-03T18:48:39.976595",
          "metadata": {"saved_at": "2025-10-03T18:48:39.977069"},
          "system_inputs": ["system:capture_1", "system:capture_2"],
          "system_outputs": ["system:playback_1", "system:playback_2"],
          "_schema_version": 1
        }
        """

    @Test func savesOneStableFilePerPedalboard() throws {
        let (store, data) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try store.save(
            id: "live-set_1",
            document: ["name": "Live", "plugins": [], "_schema_version": 1],
            catalogue: noPlugins
        )
        try store.save(
            id: "live-set_1",
            document: ["name": "Live", "plugins": ["x"], "_schema_version": 1],
            catalogue: noPlugins
        )
        #expect(try store.load(id: "live-set_1")["plugins"] == ["x"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.folder) == ["live-set_1.json"])
        #expect(try store.delete(id: "live-set_1"))
        #expect(try !store.delete(id: "live-set_1"))
        #expect(throws: RPCError.self) { try store.load(id: "live-set_1") }
    }

    @Test func readsTheReferencesFiles() throws {
        let (store, data) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try Self.referenceFile.write(
            toFile: "\(store.folder)/2c1a99f6ab13420a909649368d5e72ac.json",
            atomically: true,
            encoding: .utf8
        )
        let document = try store.load(id: "2c1a99f6ab13420a909649368d5e72ac")
        #expect(document["name"] == "System I/O Demo")
        #expect(document["system_outputs"] == ["system:playback_1", "system:playback_2"])
        #expect(store.list().pedalboards.map(\.id) == ["2c1a99f6ab13420a909649368d5e72ac"])
    }

    @Test(arguments: [
        "../../etc/passwd", "/etc/passwd", "a/b", "..", "", "a b", "a\0b", "ü", String(repeating: "x", count: 10_000),
    ])
    func idsNeverBecomePaths(_ id: String) throws {
        let (store, data) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        for attempt: () throws -> Void in [
            { try store.save(id: id, document: ["name": "x"], catalogue: noPlugins) }, { _ = try store.load(id: id) },
            { _ = try store.delete(id: id) },
        ] {
            let error = #expect(throws: RPCError.self) { try attempt() }
            #expect(error?.code == .invalidParameters)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.folder).isEmpty)
    }

    @Test func badFilesAreSkippedReportedAndNeverOverwritten() throws {
        let (store, data) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try store.save(id: "good", document: ["name": "Good"], catalogue: noPlugins)
        let folder = store.folder
        try Data([0xFF, 0xFE, 0x7B]).write(to: URL(fileURLWithPath: "\(folder)/binary.json"))
        try "{\"name\": ".write(toFile: "\(folder)/truncated.json", atomically: true, encoding: .utf8)
        try "[1, 2]".write(toFile: "\(folder)/array.json", atomically: true, encoding: .utf8)
        try "{\"title\": \"foreign\"}".write(toFile: "\(folder)/foreign.json", atomically: true, encoding: .utf8)
        try "{\"name\": \"x\"}".write(toFile: "\(folder)/bad id.json", atomically: true, encoding: .utf8)
        // What a save interrupted before its rename leaves behind.
        try "{\"name\": \"half".write(toFile: "\(folder)/.good.json.tmp-1-2", atomically: true, encoding: .utf8)

        let (pedalboards, problems) = store.list()
        #expect(pedalboards.map(\.id) == ["good"])
        #expect(
            Set(problems.map(\.file)) == ["binary.json", "truncated.json", "array.json", "foreign.json", "bad id.json"]
        )
        #expect(try store.load(id: "good")["name"] == "Good")
        let error = #expect(throws: RPCError.self) { try store.load(id: "truncated") }
        #expect(error?.code == .storageError)

        // Saving over a corrupt file moves it aside first: nothing is lost.
        try store.save(id: "truncated", document: ["name": "Fixed"], catalogue: noPlugins)
        #expect(try store.load(id: "truncated")["name"] == "Fixed")
        let kept = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix("truncated.json.corrupt-")
        }
        #expect(kept.count == 1)
        #expect(try String(contentsOfFile: "\(folder)/\(kept[0])", encoding: .utf8) == "{\"name\": ")
    }
}
