import Foundation

/// The catalogue as last scanned, kept in one file beside the bundles' fingerprint: a start whose
/// bundles are unchanged reads it instead of parsing every bundle with lilv.
///
/// The file is the fingerprint, a newline, then the plugins as JSON. It is written to a temporary
/// file and renamed over the old one, so a reader sees a whole cache or none; the fingerprint is
/// taken before the scan, so a bundle changed during a scan makes the next start scan again.
public struct CatalogueCache: Sendable {
    public let file: String

    public init(file: String) { self.file = file }

    /// The cached catalogue when it was read from bundles with exactly `fingerprint`, else nil.
    public func load(fingerprint: String) -> PluginCatalogue? {
        guard let data = FileManager.default.contents(atPath: file),
            let newline = data.firstIndex(of: UInt8(ascii: "\n")),
            String(decoding: data[data.startIndex..<newline], as: UTF8.self) == fingerprint,
            let plugins = try? JSONDecoder().decode([PluginInfo].self, from: data[(newline + 1)...])
        else { return nil }
        return PluginCatalogue(plugins: plugins)
    }

    /// Writes `catalogue` under `fingerprint`, atomically; a cache that cannot be written is skipped.
    public func store(_ catalogue: PluginCatalogue, fingerprint: String) {
        guard let body = try? JSONEncoder().encode(catalogue.plugins) else { return }
        let folder = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = "\(file).tmp-\(getpid())"
        var data = Data(fingerprint.utf8)
        data.append(UInt8(ascii: "\n"))
        data.append(body)
        guard FileManager.default.createFile(atPath: temporary, contents: data) else { return }
        if rename(temporary, file) != 0 { unlink(temporary) }
    }

    /// Drops the cache (`rescan_plugins`): the next load scans.
    public func remove() { unlink(file) }
}

extension PluginCatalogue {
    /// The catalogue of `folders` (default: ``LV2Path/folders``), from `cache` when its bundles are
    /// unchanged, else scanned with lilv and cached. With `rescanning`, the cache is not read.
    public static func load(
        folders: [String] = LV2Path.folders,
        cache: CatalogueCache?,
        rescanning: Bool = false
    ) -> PluginCatalogue {
        let fingerprint = BundleFingerprint.of(folders: folders)
        // The file's bytes and the encoder's buffers are garbage once this returns.
        defer { releaseFreedMemory() }
        if !rescanning, let cached = cache?.load(fingerprint: fingerprint) { return cached }
        let scanned = load(folders: folders)
        cache?.store(scanned, fingerprint: fingerprint)
        return scanned
    }
}
