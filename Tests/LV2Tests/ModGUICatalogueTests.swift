import LV2
import TestSupport
import Testing

/// modgui read from a bundle written by the test, scanned on its own (`LV2_PATH` ignored).
@Suite struct ModGUICatalogueTests {
    @Test func readsTheModguiOfABundleScannedAlone() throws {
        let fixture = try ModGUIBundle.make()
        defer { fixture.remove() }
        let catalogue = PluginCatalogue.load(folders: [fixture.folder])
        #expect(catalogue.plugins.map(\.uri) == [ModGUIBundle.uri], "only the given folder is scanned")
        let plugin = try #require(catalogue.plugin(uri: ModGUIBundle.uri))
        #expect(plugin.name == "Modgui amplifier")
        #expect(plugin.port(symbol: "gain")?.maximum == 10)

        let gui = try #require(plugin.modgui)
        #expect(gui.resourcesDirectory == fixture.resources)
        #expect(gui.files[.iconTemplate] == "\(fixture.resources)/icon-amp.html")
        #expect(gui.files[.stylesheet] == "\(fixture.resources)/stylesheet-amp.css")
        #expect(gui.files[.screenshot] == "\(fixture.resources)/screenshot-amp.png")
        #expect(gui.files[.thumbnail] == "\(fixture.resources)/thumbnail-amp.png")
        #expect(gui.files[.javascript] == "\(fixture.resources)/missing.js", "named, though not on disk")
        #expect(gui.files[.settingsTemplate] == nil)
        #expect(gui.texts == [.brand: "Marlise", .label: "Amp", .color: "black", .knob: "silver"])
        #expect(gui.ports == [ModGUI.Port(index: 0, symbol: "gain", name: "Gain")])
    }

    @Test func pluginsWithoutAModguiHaveNone() throws {
        let amp = try #require(PluginCatalogueTests.catalogue.plugin(uri: "http://plugin.org.uk/swh-plugins/amp"))
        #expect(amp.modgui == nil)
    }

    @Test func aFolderWithoutBundlesListsNothing() {
        #expect(PluginCatalogue.load(folders: ["/nonexistent-lv2-folder"]).plugins.isEmpty)
    }
}
