import Foundation
import LV2
import Locking
import Testing

/// One plugin's description read back from the cache file: as scanned, from the scan that wrote
/// or read the file, and never from bytes changed in place.
@Suite struct CatalogueRecordsTests {
    typealias Fixture = CatalogueCacheTests.Fixture

    @Test func everyPluginReadsBackAsScannedFromTheWrittenAndTheReadFile() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        // The machine's stock plugins (swh, mda, the examples), beside the fixture's.
        let folders = LV2Path.folders + [fixture.folder]
        let written = PluginCatalogue.loadStored(folders: folders, cache: fixture.cache)
        let read = PluginCatalogue.loadStored(folders: folders, cache: fixture.cache)
        // Compared with the same scan: lilv's order of a port's properties varies between scans.
        let scanned = written.catalogue
        #expect(scanned.plugins.count > 100)
        #expect(read.catalogue.plugins == scanned.plugins)
        for stored in [written, read] {
            let records = try #require(stored.records)
            #expect(records.count == Set(scanned.plugins.map(\.uri)).count)
            for plugin in scanned.plugins { #expect(try records.plugin(uri: plugin.uri) == plugin) }
            #expect(try records.plugin(uri: "http://marlise.test/plugins/none") == nil)
            #expect(!records.contains("http://marlise.test/plugins/none"))
        }
    }

    @Test func heldRecordsKeepTheirScanWhenTheFileIsReplacedOrRemoved() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        let first = try #require(PluginCatalogue.loadStored(folders: [fixture.folder], cache: fixture.cache).records)
        try fixture.write(name: "Second", age: 3600)
        let second = try #require(PluginCatalogue.loadStored(folders: [fixture.folder], cache: fixture.cache).records)
        #expect(
            try second.plugin(uri: CatalogueCacheTests.uri)?.name == "Second",
            "the changed bundle was scanned again"
        )
        #expect(
            try first.plugin(uri: CatalogueCacheTests.uri)?.name == "First",
            "the first scan's file, not the new one"
        )
        fixture.cache.remove()
        #expect(try first.plugin(uri: CatalogueCacheTests.uri)?.name == "First")
        #expect(try second.plugin(uri: CatalogueCacheTests.uri)?.name == "Second")
    }

    @Test func aRecordChangedInPlaceIsRefusedNotAnswered() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        let records = try #require(PluginCatalogue.loadStored(folders: [fixture.folder], cache: fixture.cache).records)
        // Another program writes into the file itself (no rename): same length, another name.
        let text = try String(contentsOfFile: fixture.cache.file, encoding: .utf8)
        let changed = text.replacingOccurrences(of: "\"First\"", with: "\"Fxrst\"")
        #expect(changed != text)
        let handle = try #require(FileHandle(forWritingAtPath: fixture.cache.file))
        try handle.write(contentsOf: Data(changed.utf8))
        try handle.close()
        #expect(throws: CatalogueRecords.Unreadable.self) { try records.plugin(uri: CatalogueCacheTests.uri) }
    }

    @Test func writersAtOnceEachKeepTheirOwnRecords() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        let scanned = PluginCatalogue.load(folders: [fixture.folder])
        // `Locked`, not `Mutex`: ThreadSanitizer follows its hand-overs.
        let written = Locked([Int: CatalogueRecords]())
        // Rescans at once (two clients' `rescan_plugins`): each write is whole, in a file of its own.
        DispatchQueue.concurrentPerform(iterations: 8) { round in
            var catalogue = scanned
            catalogue.plugins[0].name = "Round \(round)"
            let records = fixture.cache.store(catalogue, fingerprint: "f")
            written.withLock { $0[round] = records }
        }
        for round in 0..<8 {
            let records = try #require(written.withLock { $0[round] })
            #expect(try records.plugin(uri: CatalogueCacheTests.uri)?.name == "Round \(round)")
        }
        let name = fixture.cache.load(fingerprint: "f")?.plugins.first?.name ?? ""
        #expect(name.hasPrefix("Round "), "one whole write won")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.root)/cache")
        #expect(leftovers == ["catalogue.json"])
    }
}
