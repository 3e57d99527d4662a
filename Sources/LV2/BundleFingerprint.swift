import Foundation

/// What the catalogue was read from, summed up: every search folder, every bundle in it and every
/// Turtle file in each bundle, by path, modification time, change time and size. Any installed,
/// removed or edited bundle changes it; it costs a `stat` per file, not a parse.
public enum BundleFingerprint {
    /// Bumped whenever the cache's format or the scan's output changes.
    static let format = "marlise-catalogue-3"

    public static func of(folders: [String]) -> String {
        var hash = FNV1a()
        hash.add(format)
        for folder in folders {
            hash.add("F \(folder) \(stamp(folder))")
            let bundles = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for bundle in bundles.sorted() {
                let path = folder + "/" + bundle
                guard isFolder(path) else { continue }
                hash.add("B \(path) \(stamp(path))")
                // Bundles are often links (stow, Nix, a test's folder of links): walk where they point.
                let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                hash.add("R \(real)")
                for file in turtleFiles(in: real) { hash.add("f \(file) \(stamp(real + "/" + file))") }
            }
        }
        return hash.hex
    }

    /// The bundle's `.ttl` files, relative to it, at any depth (presets sometimes sit in a subfolder).
    private static func turtleFiles(in bundle: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: bundle) else { return [] }
        var files: [String] = []
        while let file = walker.nextObject() as? String {
            if file.hasSuffix(".ttl") { files.append(file) }
        }
        return files.sorted()
    }

    private static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// mtime, ctime (both to the nanosecond) and size, or "-" for a path that is not there.
    private static func stamp(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "-" }
        return
            "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec) \(info.st_size)"
    }
}

/// 64-bit FNV-1a: a cheap, stable digest (not a defence against anyone crafting collisions).
struct FNV1a {
    private var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 + [0] {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
    }

    var hex: String { String(value, radix: 16) }

    static func digest(_ bytes: Data) -> UInt64 {
        bytes.withUnsafeBytes { buffer in
            var value: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in buffer {
                value ^= UInt64(byte)
                value = value &* 0x100_0000_01b3
            }
            return value
        }
    }
}
