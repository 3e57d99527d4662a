import Foundation
import LV2
import Messaging
import SessionService
import TestSupport
import Testing

/// `get_plugin_image`, `get_plugin_file`, `get_plugin_custom_file` and the `gui` object, over a
/// bundle written by the test beside the installed plugins (which have no modgui).
@Suite(.timeLimit(.minutes(1))) struct PluginFileMethodTests {
    /// A session whose catalogue is the installed plugins plus the fixture's.
    private static func start(_ fixture: ModGUIBundle) async throws -> SessionHarness {
        let own = PluginCatalogue.load(folders: [fixture.folder])
        try #require(own.plugins.count == 1)
        return try await SessionHarness.start(
            plugins: PluginCatalogue(plugins: SessionHarness.catalogue.plugins + own.plugins)
        )
    }

    private static let uri = JSONValue.string(ModGUIBundle.uri)

    private static func bytes(_ reply: JSONValue) -> Data? {
        reply["data"]?.stringValue.flatMap { Data(base64Encoded: $0) }
    }

    @Test func servesImagesAndFilesAsBase64() async throws {
        let fixture = try ModGUIBundle.make()
        defer { fixture.remove() }
        let session = try await Self.start(fixture)

        let screenshot = try await session.call(
            "get_plugin_image",
            ["plugin_uri": Self.uri, "image_type": "screenshot"]
        )
        #expect(Self.bytes(screenshot) == ModGUIBundle.screenshot)
        #expect(screenshot["content_type"] == "image/png")
        #expect(screenshot["filename"] == "screenshot-amp.png")
        #expect(screenshot["size"] == .int(ModGUIBundle.screenshot.count))
        let thumbnail = try await session.call("get_plugin_image", ["plugin_uri": Self.uri, "image_type": "thumbnail"])
        #expect(Self.bytes(thumbnail) == ModGUIBundle.thumbnail)

        let icon = try await session.call("get_plugin_file", ["plugin_uri": Self.uri, "file_type": "iconTemplate"])
        #expect(Self.bytes(icon) == Data(ModGUIBundle.iconTemplate.utf8))
        #expect(icon["content_type"] == "text/html")
        #expect(icon["filename"] == "icon-amp.html")
        let style = try await session.call("get_plugin_file", ["plugin_uri": Self.uri, "file_type": "stylesheet"])
        #expect(Self.bytes(style) == Data(ModGUIBundle.stylesheet.utf8))
        #expect(style["content_type"] == "text/css")

        let knob = try await session.call(
            "get_plugin_custom_file",
            ["plugin_uri": Self.uri, "filename": "knobs/silver.svg"]
        )
        #expect(Self.bytes(knob) == Data(ModGUIBundle.knob.utf8))
        #expect(knob["content_type"] == "image/svg+xml")
        #expect(knob["filename"] == "silver.svg")
        // A link that stays inside the directory is followed.
        let alias = try await session.call("get_plugin_custom_file", ["plugin_uri": Self.uri, "filename": "alias.css"])
        #expect(Self.bytes(alias) == Data(ModGUIBundle.stylesheet.utf8))
        await session.stop()
    }

    @Test func nothingOutsideTheResourcesDirectoryIsRead() async throws {
        let fixture = try ModGUIBundle.make()
        defer { fixture.remove() }
        // The link does reach the secret: the refusal below is the service's doing.
        #expect(try String(contentsOfFile: "\(fixture.resources)/escape.txt", encoding: .utf8) == ModGUIBundle.secret)
        let session = try await Self.start(fixture)
        for name in [
            "../../../secret.txt", "knobs/../../../../secret.txt", "..", "escape.txt", "\(fixture.root)/secret.txt",
            "icon-amp.html\u{0}", "",
        ] {
            let reply = try await session.fails(
                "get_plugin_custom_file",
                ["plugin_uri": Self.uri, "filename": .string(name)],
                .invalidParameters
            )
            #expect(reply["data"] == nil, "\(name)")
        }
        // The directory itself is no file.
        try await session.fails(
            "get_plugin_custom_file",
            ["plugin_uri": Self.uri, "filename": "knobs"],
            .invalidParameters
        )
        try await session.fails("get_plugin_custom_file", ["plugin_uri": Self.uri, "filename": "nope.png"], .notFound)
        await session.stop()
    }

    @Test func missingPluginsGuisAndFilesAreNotFound() async throws {
        let fixture = try ModGUIBundle.make()
        defer { fixture.remove() }
        let session = try await Self.start(fixture)
        let amp = JSONValue.string(SessionHarness.amp)
        try await session.fails("get_plugin_image", ["plugin_uri": amp, "image_type": "screenshot"], .notFound)
        try await session.fails("get_plugin_file", ["plugin_uri": amp, "file_type": "iconTemplate"], .notFound)
        try await session.fails("get_plugin_custom_file", ["plugin_uri": amp, "filename": "a.png"], .notFound)
        try await session.fails("get_plugin_image", ["plugin_uri": "urn:nope", "image_type": "screenshot"], .notFound)
        // Not declared, and declared but absent.
        try await session.fails(
            "get_plugin_file",
            ["plugin_uri": Self.uri, "file_type": "settingsTemplate"],
            .notFound
        )
        try await session.fails("get_plugin_file", ["plugin_uri": Self.uri, "file_type": "javascript"], .notFound)

        try await session.fails("get_plugin_image", ["plugin_uri": Self.uri, "image_type": "icon"], .invalidParameters)
        try await session.fails(
            "get_plugin_image",
            ["plugin_uri": Self.uri, "image_type": "iconTemplate"],
            .invalidParameters
        )
        try await session.fails(
            "get_plugin_file",
            ["plugin_uri": Self.uri, "file_type": "screenshot"],
            .invalidParameters
        )
        try await session.fails("get_plugin_file", ["plugin_uri": Self.uri], .invalidParameters)
        try await session.fails("get_plugin_image", ["image_type": "screenshot"], .invalidParameters)
        await session.stop()
    }

    @Test func theGuiObjectNamesTheFiles() async throws {
        let fixture = try ModGUIBundle.make()
        defer { fixture.remove() }
        let session = try await Self.start(fixture)
        let info = try await session.call("get_plugin_info_by_uri", ["uri": Self.uri])
        let gui = try #require(info["plugin"]?["gui"])
        #expect(gui["resourcesDirectory"] == .string(fixture.resources))
        #expect(gui["screenshot"] == .string("\(fixture.resources)/screenshot-amp.png"))
        #expect(gui["thumbnail"] == .string("\(fixture.resources)/thumbnail-amp.png"))
        #expect(gui["iconTemplate"] == .string("\(fixture.resources)/icon-amp.html"))
        #expect(gui["stylesheet"] == .string("\(fixture.resources)/stylesheet-amp.css"))
        #expect(gui["settingsTemplate"] == nil)
        #expect(gui["brand"] == "Marlise")
        #expect(gui["knob"] == "silver")
        #expect(gui["ports"] == [["index": 0, "symbol": "gain", "name": "Gain"]])

        let bulk = try await session.call("get_plugins_bulk", ["uris": [Self.uri, .string(SessionHarness.amp)]])
        #expect(bulk["plugins"]?[ModGUIBundle.uri]?["gui"] == gui)
        #expect(bulk["plugins"]?[SessionHarness.amp]?["gui"] == [:])
        await session.stop()
    }

    @Test func largeFilesAreRefused() async throws {
        let fixture = try ModGUIBundle.make()
        defer { fixture.remove() }
        let big = "\(fixture.resources)/big.bin"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, 16 << 20 + 1) == 0)
        let session = try await Self.start(fixture)
        let reply = try await session.fails(
            "get_plugin_custom_file",
            ["plugin_uri": Self.uri, "filename": "big.bin"],
            .messageTooLarge
        )
        #expect(reply["error"]?.stringValue?.contains("16 MiB") == true)
        await session.stop()
    }
}
