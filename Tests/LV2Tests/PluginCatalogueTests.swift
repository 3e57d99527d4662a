import LV2
import Testing

/// The catalogue over the real plugins of Debian's swh-lv2 and mda-lv2.
@Suite struct PluginCatalogueTests {
    static let catalogue = PluginCatalogue.load()

    @Test func findsTheSwhAmplifierWithItsPorts() throws {
        let amp = try #require(Self.catalogue.plugin(uri: "http://plugin.org.uk/swh-plugins/amp"))
        #expect(amp.name == "Simple amplifier")
        let gain = try #require(amp.port(symbol: "gain"))
        #expect(gain.kind == .control)
        #expect(gain.direction == .input)
        #expect(gain.minimum == -70)
        #expect(gain.maximum == 70)
        #expect(gain.defaultValue == 0)
        #expect(gain.clamped(100) == 70)
        #expect(gain.clamped(-100) == -70)
        #expect(amp.audioInputs.map(\.symbol) == ["input"])
        #expect(amp.audioOutputs.map(\.symbol) == ["output"])
    }

    @Test func findsTheMdaOverdrive() throws {
        let overdrive = try #require(Self.catalogue.plugin(uri: "http://drobilla.net/plugins/mda/Overdrive"))
        #expect(overdrive.controlInputs.map(\.symbol) == ["drive", "muffle", "output"])
        #expect(overdrive.port(symbol: "output")?.defaultValue == 0.5)
        #expect(overdrive.audioInputs.count == 2)
    }

    @Test func listsBothCollections() {
        let uris = Self.catalogue.plugins.map(\.uri)
        #expect(uris.filter { $0.hasPrefix("http://plugin.org.uk/swh-plugins/") }.count > 50)
        #expect(uris.filter { $0.hasPrefix("http://drobilla.net/plugins/mda/") }.count > 20)
        #expect(uris == uris.sorted())
    }

    @Test func describesBrandVersionClassAndUnits() throws {
        let amp = try #require(Self.catalogue.plugin(uri: "http://plugin.org.uk/swh-plugins/amp"))
        #expect(amp.author == "Steve Harris")
        #expect(amp.brand == "Steve Harris")
        #expect(amp.category == "Amplifier")
        #expect(amp.bundleURI.hasSuffix("amp-swh.lv2/"))
        let rePsycho = try #require(Self.catalogue.plugin(uri: "http://drobilla.net/plugins/mda/RePsycho"))
        #expect(rePsycho.ports.contains { $0.unit == "ct" })
        #expect(amp.requiredFeatures.isEmpty)
    }

    @Test func readsPresetsWithTheirLabels() throws {
        let leslie = try #require(Self.catalogue.plugin(uri: "http://drobilla.net/plugins/mda/Leslie"))
        #expect(leslie.presets.count == 3)
        #expect(leslie.presets.map(\.label).contains("Slow"))
        #expect(leslie.presets.contains { $0.uri == "http://drobilla.net/plugins/mda/presets#Leslie-slow" })
    }

    @Test func readsScalePointsAndPortProperties() throws {
        let withPoints = Self.catalogue.plugins.flatMap(\.ports).filter { !$0.scalePoints.isEmpty }
        #expect(!withPoints.isEmpty)
        let toggles = Self.catalogue.plugins.flatMap(\.ports).filter { $0.properties.contains("toggled") }
        #expect(!toggles.isEmpty)
    }

    @Test func searchesByNameAndCategory() {
        let found = Self.catalogue.search("AMPLIFIER").map(\.uri)
        #expect(found.contains("http://plugin.org.uk/swh-plugins/amp"))
        #expect(!found.contains("http://drobilla.net/plugins/mda/Leslie"))
        #expect(Self.catalogue.search("").count == Self.catalogue.plugins.count)
    }
}
