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
}
