import Foundation
import LV2
import Messaging
import Testing

@testable import SessionService

/// The session's plugin descriptions read back from its catalogue cache file on demand instead of
/// held: the same answers as the held ones, never another scan's, and the range checks unchanged.
@Suite(.timeLimit(.minutes(2))) struct CatalogueDetailsTests {
    static let uri = "http://marlise.test/plugins/ranged"

    /// A one-plugin bundle with one control input, `level` in 0…`maximum`, in a fresh search folder.
    struct Bundle {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalogue-details-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        var folder: String { "\(root)/lv2" }
        var cache: CatalogueCache { CatalogueCache(file: "\(root)/cache/catalogue.json") }

        init(name: String, maximum: Double) throws {
            try FileManager.default.createDirectory(atPath: "\(folder)/ranged.lv2", withIntermediateDirectories: true)
            try """
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
            @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
            <\(CatalogueDetailsTests.uri)> a lv2:Plugin ; lv2:binary <ranged.so> ; rdfs:seeAlso <plugin.ttl> .
            """.write(toFile: "\(folder)/ranged.lv2/manifest.ttl", atomically: false, encoding: .utf8)
            try write(name: name, maximum: maximum)
        }

        /// Rewrites the plugin's Turtle, dated an hour back: only its dates and bytes say it changed.
        func write(name: String, maximum: Double) throws {
            let file = "\(folder)/ranged.lv2/plugin.ttl"
            try """
            @prefix doap: <http://usefulinc.com/ns/doap#> .
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
            <\(CatalogueDetailsTests.uri)> a lv2:Plugin, lv2:AmplifierPlugin ; doap:name "\(name)" ;
                lv2:port [ a lv2:InputPort, lv2:ControlPort ; lv2:index 0 ; lv2:symbol "level" ; lv2:name "Level" ;
                    lv2:default 0.5 ; lv2:minimum 0.0 ; lv2:maximum \(maximum) ] .
            """.write(toFile: file, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3600)],
                ofItemAtPath: file
            )
        }

        /// The bundle's catalogue as the session reads it: its cache file written or read, held open.
        func stored(folders: [String] = []) -> StoredCatalogue {
            PluginCatalogue.loadStored(folders: folders + [folder], cache: cache)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func detailsReadFromTheFileAreTheHeldOnes() async throws {
        let bundle = try Bundle(name: "Ranged", maximum: 1)
        defer { bundle.remove() }
        let held = try await SessionHarness.start()
        let onDemand = try await SessionHarness.start()
        let uris = SessionHarness.catalogue.plugins.map(\.uri) + [Self.uri]
        // The first start writes the cache, the second reads it: both answer from the file.
        for round in ["written", "read"] {
            let stored = bundle.stored(folders: LV2Path.folders)
            #expect(stored.records != nil, "\(round)")
            // The held copy is the same scan's: lilv's order of a port's properties varies between scans.
            _ = await held.server.session.rescan(StoredCatalogue(catalogue: stored.catalogue))
            _ = await onDemand.server.session.rescan(stored)
            #expect(await onDemand.server.session.catalogue.recentCount == 0, "no description held (\(round))")
            for method in ["list_plugins", "get_available_plugins"] {
                #expect(try await onDemand.call(method) == (try await held.call(method)), "\(method) (\(round))")
            }
            let bulk: [String: JSONValue] = ["uris": .array(uris.map { .string($0) } + ["urn:nope"])]
            let answer = try await onDemand.call("get_plugins_bulk", bulk)
            let heldAnswer = try await held.call("get_plugins_bulk", bulk)
            #expect(answer == heldAnswer, "\(round)")
            #expect(answer["plugins"]?.objectValue?.count == uris.count)
            #expect(answer["missing"] == ["urn:nope"])
            for uri in [SessionHarness.amp, Self.uri] {
                let info = try await onDemand.call("get_plugin_info_by_uri", ["uri": .string(uri)])
                #expect(info == (try await held.call("get_plugin_info_by_uri", ["uri": .string(uri)])), "\(uri)")
            }
            let kept = await onDemand.server.session.catalogue.recentCount
            #expect(kept == IndexedCatalogue.recentCapacity, "a few kept, not all \(uris.count) (\(round))")
        }
        try await onDemand.fails("get_plugin_info_by_uri", ["uri": "urn:nope"], .pluginNotFound)
        await held.stop()
        await onDemand.stop()
    }

    @Test func aChangedBundleIsNeverAnsweredStale() async throws {
        let bundle = try Bundle(name: "First", maximum: 1)
        defer { bundle.remove() }
        let session = try await SessionHarness.start()
        _ = await session.server.session.rescan(bundle.stored())
        let info = { try await session.call("get_plugin_info_by_uri", ["uri": .string(Self.uri)])["plugin"] }
        #expect(try await info()?["name"] == "First")
        #expect(try await info()?["parameters"]?.arrayValue?.first?["max"] == 1.0)
        try await session.fails(
            "load_plugin",
            ["uri": .string(Self.uri), "parameters": ["level": 5]],
            .invalidParameters
        )

        // The bundle changes and another reader rewrites the cache file: the session answers its own
        // scan, the list and the details alike, until it reads the catalogue again.
        try bundle.write(name: "Second", maximum: 10)
        let other = bundle.stored()
        #expect(other.catalogue.plugins.first?.name == "Second")
        #expect(try await session.call("list_plugins")["plugins"]?.arrayValue?.first?["name"] == "First")
        #expect(try await info()?["name"] == "First")

        // Read again (the file is the other reader's now): the new description, not the one kept.
        _ = await session.server.session.rescan(bundle.stored())
        #expect(try await session.call("list_plugins")["plugins"]?.arrayValue?.first?["name"] == "Second")
        #expect(try await info()?["name"] == "Second")
        #expect(try await info()?["parameters"]?.arrayValue?.first?["max"] == 10.0)
        try await session.fails("load_plugin", ["uri": .string(Self.uri), "parameters": ["level": 5]], .bridgeError)
        try await session.fails(
            "load_plugin",
            ["uri": .string(Self.uri), "parameters": ["level": 11]],
            .invalidParameters
        )

        // A file changed in place (not by a rename) is refused, never answered from its new bytes.
        let fresh = try await SessionHarness.start()
        _ = await fresh.server.session.rescan(bundle.stored())
        let text = try String(contentsOfFile: bundle.cache.file, encoding: .utf8)
        let handle = try #require(FileHandle(forWritingAtPath: bundle.cache.file))
        try handle.write(contentsOf: Data(text.replacingOccurrences(of: "\"Second\"", with: "\"Secxnd\"").utf8))
        try handle.close()
        try await fresh.fails("get_plugin_info_by_uri", ["uri": .string(Self.uri)], .internalError)
        await fresh.stop()
        await session.stop()
    }

    @Test func rangeChecksRefuseOutOfRangeValuesWithDetailsOnDisk() async throws {
        let bundle = try Bundle(name: "Ranged", maximum: 1)
        defer { bundle.remove() }
        let data = SessionHarness.makeDataDirectory()
        try SessionHarness.seedSession(data: data, plugins: [SessionHarness.ampInstance(gain: 6, hostNumber: 3)])
        let session = try await SessionHarness.start(data: data)
        _ = await session.server.session.rescan(bundle.stored(folders: LV2Path.folders))
        #expect(await session.server.session.catalogue.recentCount == 0)

        try await session.refusesAmpTurnsOutOfItsPorts()
        try await session.fails(
            "set_parameter",
            ["instance_id": "amp", "parameter": "gain", "value": 12],
            .bridgeError
        )
        try await session.fails(
            "load_plugin",
            ["uri": .string(SessionHarness.amp), "parameters": ["gain": 71]],
            .invalidParameters
        )
        // Every knob turn after the first is answered from the description kept, not the file.
        #expect(await session.server.session.catalogue.recentCount == 1)
        let amp = try await session.call("get_plugin_info", ["instance_id": "amp"])
        #expect(amp["plugin"]?["parameters"]?["gain"] == 6.0)
        await session.stop()
    }
}
