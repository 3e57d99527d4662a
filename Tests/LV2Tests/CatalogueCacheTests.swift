import Foundation
import LV2
import Testing

/// The on-disk catalogue cache: used while the bundles are unchanged, never once one changed.
@Suite struct CatalogueCacheTests {
    static let uri = "http://marlise.test/plugins/cached"

    /// A one-plugin bundle named `name`, in a fresh search folder; lilv lists it from Turtle alone.
    struct Fixture {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalogue-cache-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        var folder: String { "\(root)/lv2" }
        var plugin: String { "\(folder)/cached.lv2/plugin.ttl" }
        var cache: CatalogueCache { CatalogueCache(file: "\(root)/cache/catalogue.json") }

        init(name: String) throws {
            try FileManager.default.createDirectory(atPath: "\(folder)/cached.lv2", withIntermediateDirectories: true)
            try """
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
            @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
            <\(CatalogueCacheTests.uri)> a lv2:Plugin ; lv2:binary <cached.so> ; rdfs:seeAlso <plugin.ttl> .
            """.write(toFile: "\(folder)/cached.lv2/manifest.ttl", atomically: false, encoding: .utf8)
            try write(name: name)
        }

        /// Rewrites the plugin's Turtle, then dates it `age` seconds in the past (mtime and atime).
        func write(name: String, age: Double = 0) throws {
            try """
            @prefix doap: <http://usefulinc.com/ns/doap#> .
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
            <\(CatalogueCacheTests.uri)> a lv2:Plugin, lv2:AmplifierPlugin ; doap:name "\(name)" ;
                lv2:port [ a lv2:InputPort, lv2:AudioPort ; lv2:index 0 ; lv2:symbol "in" ; lv2:name "In" ] .
            """.write(toFile: plugin, atomically: false, encoding: .utf8)
            let date = Date().addingTimeInterval(-age)
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: plugin)
        }

        func name() -> String? {
            PluginCatalogue.load(folders: [folder], cache: cache).plugin(uri: CatalogueCacheTests.uri)?.name
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func unchangedBundlesAreReadFromTheCache() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        #expect(fixture.name() == "First")
        let fingerprint = BundleFingerprint.of(folders: [fixture.folder])
        let cached = try #require(fixture.cache.load(fingerprint: fingerprint))
        #expect(cached.plugins.map(\.uri) == [Self.uri])
        #expect(cached.plugins == PluginCatalogue.load(folders: [fixture.folder]).plugins, "the cache holds it whole")
        #expect(fixture.cache.load(fingerprint: "other") == nil)
        #expect(fixture.name() == "First")
    }

    @Test func aBundleFileWhoseMtimeChangesInvalidatesTheCache() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        #expect(fixture.name() == "First")
        let before = BundleFingerprint.of(folders: [fixture.folder])
        // Same size, an older mtime: only the file's dates say it changed.
        try fixture.write(name: "Other", age: 3600)
        #expect(BundleFingerprint.of(folders: [fixture.folder]) != before)
        #expect(fixture.cache.load(fingerprint: BundleFingerprint.of(folders: [fixture.folder])) == nil)
        #expect(fixture.name() == "Other")
    }

    @Test func aFileInALinkedBundleIsWatchedToo() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        // The search folder holds a link to the bundle, as a folder of links to installed bundles does.
        let linked = "\(fixture.root)/linked"
        try FileManager.default.createDirectory(atPath: linked, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(linked)/cached.lv2",
            withDestinationPath: "\(fixture.folder)/cached.lv2"
        )
        let name = { PluginCatalogue.load(folders: [linked], cache: fixture.cache).plugin(uri: Self.uri)?.name }
        #expect(name() == "First")
        try fixture.write(name: "Other", age: 3600)
        #expect(name() == "Other")
    }

    @Test func aBundleAddedOrRemovedInvalidatesTheCache() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        #expect(fixture.name() == "First")
        let before = BundleFingerprint.of(folders: [fixture.folder])
        try FileManager.default.removeItem(atPath: "\(fixture.folder)/cached.lv2")
        #expect(BundleFingerprint.of(folders: [fixture.folder]) != before)
        #expect(fixture.name() == nil)
    }

    @Test func aRescanIgnoresAndRewritesTheCache() throws {
        let fixture = try Fixture(name: "First")
        defer { fixture.remove() }
        let fingerprint = BundleFingerprint.of(folders: [fixture.folder])
        // A cache that lies under the right fingerprint: only a rescan gets past it.
        fixture.cache.store(PluginCatalogue(plugins: []), fingerprint: fingerprint)
        #expect(fixture.name() == nil)
        let rescanned = PluginCatalogue.load(folders: [fixture.folder], cache: fixture.cache, rescanning: true)
        #expect(rescanned.plugin(uri: Self.uri)?.name == "First")
        #expect(fixture.name() == "First")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.root)/cache")
        #expect(leftovers == ["catalogue.json"], "written through a temporary file renamed over it")
    }
}
