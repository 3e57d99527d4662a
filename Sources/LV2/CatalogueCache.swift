import Foundation
import Glibc

/// The catalogue as last scanned, kept in one file beside the bundles' fingerprint: a start whose
/// bundles are unchanged reads it instead of parsing every bundle with lilv.
///
/// The file is the fingerprint, a newline, then one plugin per line as JSON (JSON text holds no
/// raw newline), so one plugin's record can be read back alone (``CatalogueRecords``). It is
/// written to a temporary file and renamed over the old one, so a reader sees a whole cache or
/// none; the fingerprint is taken before the scan, so a bundle changed during a scan makes the
/// next start scan again.
public struct CatalogueCache: Sendable {
    public let file: String

    public init(file: String) { self.file = file }

    /// The cached catalogue when it was read from bundles with exactly `fingerprint`, else nil.
    public func load(fingerprint: String) -> PluginCatalogue? { open(fingerprint: fingerprint)?.catalogue }

    /// The cached catalogue with its file held open for ``CatalogueRecords/plugin(uri:)``, when it
    /// was read from bundles with exactly `fingerprint`; nil when absent, stale or unreadable.
    public func open(fingerprint: String) -> StoredCatalogue? {
        let descriptor = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        guard let data = CatalogueRecords.readAll(descriptor),
            let newline = data.firstIndex(of: UInt8(ascii: "\n")),
            String(decoding: data[data.startIndex..<newline], as: UTF8.self) == fingerprint
        else {
            close(descriptor)
            return nil
        }
        let decoder = JSONDecoder()
        var plugins: [PluginInfo] = []
        var records: [String: CatalogueRecords.Record] = [:]
        var start = newline + 1
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            let bytes = data[start..<end]
            guard let plugin = try? decoder.decode(PluginInfo.self, from: bytes) else {
                close(descriptor)
                return nil
            }
            plugins.append(plugin)
            if records[plugin.uri] == nil { records[plugin.uri] = .init(bytes, offset: start - data.startIndex) }
            start = end + 1
        }
        return StoredCatalogue(
            catalogue: PluginCatalogue(plugins: plugins),
            records: CatalogueRecords(descriptor: descriptor, records: records)
        )
    }

    /// Writes `catalogue` under `fingerprint`, atomically; returns the written file held open (the
    /// bytes this call wrote, whatever later replaces the file), nil when it cannot be written.
    @discardableResult
    public func store(_ catalogue: PluginCatalogue, fingerprint: String) -> CatalogueRecords? {
        let encoder = JSONEncoder()
        var data = Data(fingerprint.utf8)
        data.append(UInt8(ascii: "\n"))
        var records: [String: CatalogueRecords.Record] = [:]
        for plugin in catalogue.plugins {
            guard let line = try? encoder.encode(plugin), !line.contains(UInt8(ascii: "\n")) else { return nil }
            if records[plugin.uri] == nil { records[plugin.uri] = .init(line, offset: data.count) }
            data.append(line)
            data.append(UInt8(ascii: "\n"))
        }
        let folder = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A name of its own per write: two rescans at once must not write into one file.
        let temporary = "\(file).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let descriptor = Glibc.open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        guard CatalogueRecords.writeAll(data, to: descriptor), rename(temporary, file) == 0 else {
            close(descriptor)
            unlink(temporary)
            return nil
        }
        return CatalogueRecords(descriptor: descriptor, records: records)
    }

    /// Drops the cache (`rescan_plugins`): the next load scans.
    public func remove() { unlink(file) }
}

/// A catalogue and, when a cache file holds it, that file's records.
public struct StoredCatalogue: Sendable {
    public var catalogue: PluginCatalogue
    /// Nil when no cache file holds this catalogue (none configured, or it could not be written).
    public var records: CatalogueRecords?

    public init(catalogue: PluginCatalogue, records: CatalogueRecords? = nil) {
        self.catalogue = catalogue
        self.records = records
    }
}

/// One scan's plugin descriptions in its cache file, held open so that they can be read back one
/// at a time instead of kept on the heap (with 580 plugins: 35,643 ports, 8.7 MB of JSON).
///
/// The cache is only ever replaced by a rename, so the open descriptor keeps this scan's bytes even
/// once a newer scan replaced the file or a rescan removed it: a record read here always belongs
/// to the scan its index came from. Each record's digest, taken when it was written or decoded,
/// refuses bytes changed in place (by anything but this code) instead of answering them.
public final class CatalogueRecords: Sendable {
    struct Record: Sendable {
        let offset: Int
        let count: Int
        let digest: UInt64

        init(_ bytes: Data, offset: Int) {
            self.offset = offset
            count = bytes.count
            digest = FNV1a.digest(bytes)
        }
    }

    /// The record of `uri` could not be read back as it was written.
    public struct Unreadable: Error, CustomStringConvertible {
        public let uri: String
        public var description: String { "The catalogue cache's record of \(uri) changed or cannot be read" }
    }

    private let descriptor: Int32
    private let records: [String: Record]

    init(descriptor: Int32, records: [String: Record]) {
        self.descriptor = descriptor
        self.records = records
    }

    deinit { close(descriptor) }

    /// How many plugins the records hold (one per URI).
    public var count: Int { records.count }

    public func contains(_ uri: String) -> Bool { records[uri] != nil }

    /// The description of `uri` as scanned; nil when this scan has no such plugin.
    public func plugin(uri: String) throws(Unreadable) -> PluginInfo? {
        guard let record = records[uri] else { return nil }
        var bytes = Data(count: record.count)
        let read = bytes.withUnsafeMutableBytes { buffer in
            Self.readFully(descriptor, into: buffer, at: record.offset)
        }
        guard read, FNV1a.digest(bytes) == record.digest,
            let plugin = try? JSONDecoder().decode(PluginInfo.self, from: bytes), plugin.uri == uri
        else { throw Unreadable(uri: uri) }
        return plugin
    }

    /// The whole file behind `descriptor`, from its start.
    static func readAll(_ descriptor: Int32) -> Data? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        var data = Data(count: Int(info.st_size))
        let read = data.withUnsafeMutableBytes { readFully(descriptor, into: $0, at: 0) }
        return read ? data : nil
    }

    private static func readFully(
        _ descriptor: Int32,
        into buffer: UnsafeMutableRawBufferPointer,
        at offset: Int
    )
        -> Bool
    {
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    static func writeAll(_ data: Data, to descriptor: Int32) -> Bool {
        data.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                done += count
            }
            return true
        }
    }
}

extension PluginCatalogue {
    /// The catalogue of `folders` (default: ``LV2Path/folders``), from `cache` when its bundles are
    /// unchanged, else scanned with lilv and cached. With `rescanning`, the cache is not read.
    public static func load(
        folders: [String] = LV2Path.folders,
        cache: CatalogueCache?,
        rescanning: Bool = false
    ) -> PluginCatalogue {
        loadStored(folders: folders, cache: cache, rescanning: rescanning).catalogue
    }

    /// ``load(folders:cache:rescanning:)`` with the cache file's records held open, for a reader
    /// that keeps only an index and reads a plugin's description when asked.
    public static func loadStored(
        folders: [String] = LV2Path.folders,
        cache: CatalogueCache?,
        rescanning: Bool = false
    ) -> StoredCatalogue {
        let fingerprint = BundleFingerprint.of(folders: folders)
        // The file's bytes and the encoder's buffers are garbage once this returns.
        defer { releaseFreedMemory() }
        if !rescanning, let cached = cache?.open(fingerprint: fingerprint) { return cached }
        let scanned = load(folders: folders)
        return StoredCatalogue(catalogue: scanned, records: cache?.store(scanned, fingerprint: fingerprint))
    }
}
