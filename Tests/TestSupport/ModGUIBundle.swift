public import Foundation

/// A one-plugin LV2 bundle with a modgui, written to a fresh temporary folder: the installed
/// plugins have none, and a test must know the bytes it expects back. The binary it names does
/// not exist; lilv lists plugins from their Turtle alone.
///
/// Beside the scanned folder, `secret.txt` sits outside the resources directory with two ways in
/// that must fail: `modgui/escape.txt`, a symlink to it, and `../../../secret.txt` by name.
public struct ModGUIBundle: Sendable {
    public static let uri = "http://marlise.test/plugins/modgui-amp"

    /// Holds `lv2/modgui-amp.lv2/` and `secret.txt`.
    public let root: String
    /// The folder to scan: the bundle alone (lilv takes every entry there for a bundle).
    public var folder: String { "\(root)/lv2" }
    public var bundle: String { "\(folder)/modgui-amp.lv2" }
    public var resources: String { "\(bundle)/modgui" }

    /// A 1×1 PNG: real image bytes, including ones that are not valid UTF-8.
    public static let screenshot = Data(
        base64Encoded:
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )!
    public static let thumbnail = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF])
    public static let iconTemplate = "<div class=\"mod-pedal\">{{#controls}}{{name}}{{/controls}}</div>\n"
    public static let stylesheet = ".mod-pedal { color: black; }\n"
    public static let knob = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"
    public static let secret = "outside the resources directory\n"

    /// Writes the bundle under a new folder of the temporary directory.
    public static func make() throws -> ModGUIBundle {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "modgui-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
        let made = ModGUIBundle(root: root)
        try made.write()
        return made
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func write() throws {
        let files = FileManager.default
        try files.createDirectory(atPath: "\(resources)/knobs", withIntermediateDirectories: true)
        func text(_ path: String, _ content: String) throws {
            try content.write(toFile: path, atomically: false, encoding: .utf8)
        }
        try text(
            "\(bundle)/manifest.ttl",
            """
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
            @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

            <\(Self.uri)> a lv2:Plugin ;
                lv2:binary <modgui-amp.so> ;
                rdfs:seeAlso <plugin.ttl> , <modgui.ttl> .

            """
        )
        try text(
            "\(bundle)/plugin.ttl",
            """
            @prefix doap: <http://usefulinc.com/ns/doap#> .
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .

            <\(Self.uri)> a lv2:Plugin , lv2:AmplifierPlugin ;
                doap:name "Modgui amplifier" ;
                lv2:port [
                    a lv2:InputPort , lv2:ControlPort ;
                    lv2:index 0 ;
                    lv2:symbol "gain" ;
                    lv2:name "Gain" ;
                    lv2:default 0.0 ;
                    lv2:minimum -10.0 ;
                    lv2:maximum 10.0
                ] .

            """
        )
        // No settingsTemplate; a javascript that is named but not there.
        try text(
            "\(bundle)/modgui.ttl",
            """
            @prefix lv2: <http://lv2plug.in/ns/lv2core#> .
            @prefix modgui: <http://moddevices.com/ns/modgui#> .

            <\(Self.uri)> modgui:gui [
                modgui:resourcesDirectory <modgui> ;
                modgui:iconTemplate <modgui/icon-amp.html> ;
                modgui:stylesheet <modgui/stylesheet-amp.css> ;
                modgui:screenshot <modgui/screenshot-amp.png> ;
                modgui:thumbnail <modgui/thumbnail-amp.png> ;
                modgui:javascript <modgui/missing.js> ;
                modgui:brand "Marlise" ;
                modgui:label "Amp" ;
                modgui:color "black" ;
                modgui:knob "silver" ;
                modgui:port [ lv2:index 0 ; lv2:symbol "gain" ; lv2:name "Gain" ]
            ] .

            """
        )
        try text("\(resources)/icon-amp.html", Self.iconTemplate)
        try text("\(resources)/stylesheet-amp.css", Self.stylesheet)
        try Self.screenshot.write(to: URL(fileURLWithPath: "\(resources)/screenshot-amp.png"))
        try Self.thumbnail.write(to: URL(fileURLWithPath: "\(resources)/thumbnail-amp.png"))
        try text("\(resources)/knobs/silver.svg", Self.knob)
        try text("\(root)/secret.txt", Self.secret)
        try files.createSymbolicLink(atPath: "\(resources)/escape.txt", withDestinationPath: "../../../secret.txt")
        try files.createSymbolicLink(atPath: "\(resources)/alias.css", withDestinationPath: "stylesheet-amp.css")
    }
}
