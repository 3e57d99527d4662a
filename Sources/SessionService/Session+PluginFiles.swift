import Foundation
import LV2
public import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Plugins' modgui files, for a web front end that does not share this machine's disk: mod-ui's web
/// server opened them itself; here the session reads them, only from under the plugin's
/// `modgui:resourcesDirectory`.
extension Session {
    /// `screenshot` or `thumbnail` of `uri`.
    public func pluginImage(uri: String, imageType: String) async throws -> JSONValue {
        guard let file = ModGUI.File(rawValue: imageType), file.isImage else {
            throw RPCError(.invalidParameters, "'image_type' must be 'screenshot' or 'thumbnail', not '\(imageType)'")
        }
        return try await serve(file, of: uri)
    }

    /// `iconTemplate`, `settingsTemplate`, `stylesheet` or `javascript` of `uri`.
    public func pluginFile(uri: String, fileType: String) async throws -> JSONValue {
        guard let file = ModGUI.File(rawValue: fileType), !file.isImage else {
            let names = ModGUI.File.allCases.filter { !$0.isImage }.map { "'\($0.rawValue)'" }
            throw RPCError(
                .invalidParameters,
                "'file_type' must be one of \(names.joined(separator: ", ")), not '\(fileType)'"
            )
        }
        return try await serve(file, of: uri)
    }

    /// The file `filename` (relative) under `uri`'s resources directory.
    public func pluginCustomFile(uri: String, filename: String) async throws -> JSONValue {
        try PluginFiles.check(relativeName: filename)
        let gui = try modgui(uri)
        let path = gui.resourcesDirectory + "/" + filename
        return try await PluginFiles.read(path, within: gui.resourcesDirectory, contentType: nil)
    }

    private func serve(_ file: ModGUI.File, of uri: String) async throws -> JSONValue {
        let gui = try modgui(uri)
        guard let path = gui.files[file] else {
            throw RPCError(.notFound, "The modgui of \(uri) names no \(file.rawValue)")
        }
        return try await PluginFiles.read(path, within: gui.resourcesDirectory, contentType: file.contentType)
    }

    /// The plugin's modgui, or `NOT_FOUND` when the plugin is not installed or has none.
    private func modgui(_ uri: String) throws(RPCError) -> ModGUI {
        guard let plugin = catalogue.plugin(uri: uri) else { throw RPCError(.notFound, "Plugin not found: \(uri)") }
        guard let gui = plugin.modgui else { throw RPCError(.notFound, "\(uri) has no modgui") }
        return gui
    }
}

extension ModGUI.File {
    /// Templates, stylesheets and scripts by what they are, whatever their file is called.
    var contentType: String? {
        switch self {
        case .iconTemplate, .settingsTemplate: "text/html"
        case .stylesheet: "text/css"
        case .javascript: "application/javascript"
        case .screenshot, .thumbnail: nil
        }
    }
}

/// Reading a modgui file: confined, size-capped, answered as base64.
enum PluginFiles {
    /// Larger files are refused: the reply carries them whole, a third larger in base64.
    static let maxBytes = 16 << 20

    /// A name relative to the resources directory that cannot climb out of it by its spelling.
    static func check(relativeName name: String) throws(RPCError) {
        guard !name.isEmpty else { throw RPCError(.invalidParameters, "'filename' is empty") }
        guard !name.utf8.contains(0) else { throw RPCError(.invalidParameters, "'filename' contains a NUL byte") }
        guard !name.hasPrefix("/") else {
            throw RPCError(.invalidParameters, "'filename' must be relative to the plugin's resources directory")
        }
        guard !name.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw RPCError(.invalidParameters, "'filename' must not contain '..'")
        }
    }

    /// The file at `path` as `{data, content_type, filename, size}`, read on a thread of its own.
    static func read(_ path: String, within root: String, contentType: String?) async throws -> JSONValue {
        try await onThread { () throws(RPCError) in try load(path, within: root, contentType: contentType) }
    }

    /// Both paths are resolved (symlinks too) before they are compared, so a link inside the
    /// directory that points outside it is refused before anything is opened.
    private static func load(_ path: String, within root: String, contentType: String?) throws(RPCError) -> JSONValue {
        let name = (path as NSString).lastPathComponent
        guard let realRoot = resolved(root) else {
            throw RPCError(.notFound, "The plugin's resources directory is missing")
        }
        guard let real = resolved(path) else { throw RPCError(.notFound, "No file '\(name)' in the plugin's modgui") }
        guard real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
            throw RPCError(.invalidParameters, "'\(name)' is outside the plugin's resources directory")
        }
        // O_NONBLOCK: a FIFO planted in a bundle must not hang the read; it is refused below.
        let descriptor = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw RPCError(.storageError, "'\(name)' cannot be opened: \(errnoText())")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw RPCError(.invalidParameters, "'\(name)' is not a regular file")
        }
        guard Int(status.st_size) <= maxBytes else {
            throw RPCError(
                .messageTooLarge,
                "'\(name)' is \(status.st_size) bytes; modgui files over 16 MiB are not served"
            )
        }
        let bytes = try readAll(descriptor, name: name)
        return [
            "data": .string(bytes.base64EncodedString()),
            "content_type": .string(contentType ?? Self.contentType(ofName: name)),
            "filename": .string(name), "size": .int(bytes.count),
        ]
    }

    /// Up to ``maxBytes`` + 1, so a file that grew since `fstat` is still refused.
    private static func readAll(_ descriptor: Int32, name: String) throws(RPCError) -> Data {
        var bytes = Data()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = retryingOnInterrupt {
                chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            }
            guard count >= 0 else { throw RPCError(.storageError, "'\(name)' cannot be read: \(errnoText())") }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= maxBytes else {
                throw RPCError(.messageTooLarge, "'\(name)' is over 16 MiB; modgui files that large are not served")
            }
        }
    }

    private static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// The types a modgui's custom files come in; anything else is plain bytes.
    static func contentType(ofName name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "svg": "image/svg+xml"
        case "webp": "image/webp"
        case "html", "htm": "text/html"
        case "css": "text/css"
        case "js": "application/javascript"
        case "json": "application/json"
        case "wasm": "application/wasm"
        case "txt": "text/plain"
        case "woff": "font/woff"
        case "woff2": "font/woff2"
        case "ttf": "font/ttf"
        case "otf": "font/otf"
        default: "application/octet-stream"
        }
    }
}
