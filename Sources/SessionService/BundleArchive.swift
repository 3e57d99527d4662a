import CZlib
import Foundation
public import Messaging

/// A pedalboard bundle as one `.tar.gz`, as mod-ui packs and unpacks it: the folder
/// `<name>.pedalboard/` and the files directly inside it.
///
/// Both sides are ours (ustar headers, zlib's gzip): nothing is handed to an external `tar`, and an
/// upload is checked entry by entry before anything reaches the disk — no links, no paths out of
/// the one folder, bounded in size and count however it was compressed.
public enum BundleArchive {
    /// What an upload may hold once uncompressed.
    public static let maximumBytes = 64 << 20
    public static let maximumEntries = 256

    public typealias File = (name: String, bytes: [UInt8])

    // MARK: Packing

    /// The gzip'd tar of folder `name` holding `files`.
    public static func pack(name: String, files: [File]) throws(RPCError) -> [UInt8] {
        var tar: [UInt8] = []
        try appendHeader(&tar, path: name + "/", size: 0, directory: true)
        for file in files {
            try appendHeader(&tar, path: "\(name)/\(file.name)", size: file.bytes.count, directory: false)
            tar += file.bytes
            tar += [UInt8](repeating: 0, count: (512 - file.bytes.count % 512) % 512)
        }
        tar += [UInt8](repeating: 0, count: 1024)
        return try gzip(tar)
    }

    private static func appendHeader(_ tar: inout [UInt8], path: String, size: Int, directory: Bool) throws(RPCError) {
        var header = [UInt8](repeating: 0, count: 512)
        var name = Array(path.utf8)
        var prefix: [UInt8] = []
        if name.count > 100 {
            // ustar splits a long path at a slash: up to 155 bytes of folder, 100 of name.
            guard let slash = name.lastIndex(of: UInt8(ascii: "/")), slash <= 155, name.count - slash - 1 <= 100 else {
                throw RPCError(.invalidParameters, "'\(path)' is too long to pack")
            }
            prefix = Array(name[..<slash])
            name = Array(name[(slash + 1)...])
        }
        func put(_ bytes: [UInt8], at offset: Int) {
            header.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            Array(String(value, radix: 8).leftPadded(to: width - 1).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(directory ? 0o755 : 0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(Int(Date().timeIntervalSince1970), width: 12), at: 136)
        put([UInt8](repeating: UInt8(ascii: " "), count: 8), at: 148)
        header[156] = directory ? UInt8(ascii: "5") : UInt8(ascii: "0")
        put(Array("ustar\0".utf8), at: 257)
        put(Array("00".utf8), at: 263)
        put(prefix, at: 345)
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(checksum, radix: 8).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], at: 148)
        tar += header
    }

    // MARK: Unpacking

    /// The folder name and files of an uploaded archive (gzip'd or plain tar), every entry checked:
    /// one top folder `<name>.pedalboard/`, regular files directly inside it, nothing else.
    public static func unpack(_ archive: [UInt8]) throws(RPCError) -> (name: String, files: [File]) {
        let tar = archive.starts(with: [0x1F, 0x8B]) ? try gunzip(archive, limit: maximumBytes) : archive
        var offset = 0
        var folder: String?
        var files: [File] = []
        var entries = 0
        func refuse(_ reason: String) -> RPCError {
            RPCError(.invalidParameters, "Not a pedalboard archive: \(reason)")
        }
        while offset + 512 <= tar.count {
            let header = Array(tar[offset..<offset + 512])
            if header.allSatisfy({ $0 == 0 }) { break }
            entries += 1
            guard entries <= maximumEntries else { throw refuse("more than \(maximumEntries) entries") }
            let stored = Int(text(header, 148, 8).trimmingCharacters(in: .whitespaces), radix: 8)
            var sum = header.reduce(0) { $0 + Int($1) }
            sum -= header[148..<156].reduce(0) { $0 + Int($1) } - 8 * Int(UInt8(ascii: " "))
            guard stored == sum else { throw refuse("a damaged header") }
            guard let size = Int(text(header, 124, 12).trimmingCharacters(in: .whitespaces), radix: 8), size >= 0,
                offset + 512 + size <= tar.count
            else { throw refuse("a truncated entry") }
            let body = Array(tar[offset + 512..<offset + 512 + size])
            offset += 512 + (size + 511) / 512 * 512
            let kind = header[156]
            if kind == UInt8(ascii: "x") || kind == UInt8(ascii: "g") { continue }  // pax metadata: not needed
            let prefix = text(header, 345, 155)
            let path = (prefix.isEmpty ? "" : prefix + "/") + text(header, 0, 100)
            let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            guard let top = parts.first, top.hasSuffix(ModBundle.suffix), !path.hasPrefix("/"),
                (try? PedalboardStore.format(of: top)) == .bundle, folder == nil || folder == top,
                !parts.contains(where: { $0 == ".." || $0 == "." })
            else { throw refuse("'\(path)' is outside one <name>.pedalboard folder") }
            folder = top
            switch (kind, parts.count) {
            case (UInt8(ascii: "5"), 1):
                continue
            case (UInt8(ascii: "0"), 2), (0, 2):
                let name = parts[1]
                guard !name.hasPrefix("."), !name.unicodeScalars.contains(where: { $0.value < 0x20 }),
                    !files.contains(where: { $0.name == name })
                else { throw refuse("'\(path)' is not a plain file name") }
                files.append((name, body))
            default:
                throw refuse("'\(path)' is a link, a device or a nested folder")
            }
        }
        guard let folder, files.contains(where: { $0.name == "manifest.ttl" }) else {
            throw refuse("no <name>.pedalboard folder with a manifest.ttl")
        }
        return (folder, files)
    }

    private static func text(_ header: [UInt8], _ offset: Int, _ length: Int) -> String {
        let field = header[offset..<offset + length]
        return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    // MARK: gzip

    static func gzip(_ input: [UInt8]) throws(RPCError) -> [UInt8] {
        var stream = z_stream()
        guard marlise_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK else {
            throw RPCError(.internalError, "zlib cannot start compressing")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw RPCError(.internalError, "zlib could not compress (\(status))") }
        return Array(output.prefix(Int(stream.total_out)))
    }

    /// Inflates gzip data, refusing (rather than allocating) more than `limit` bytes of output.
    static func gunzip(_ input: [UInt8], limit: Int) throws(RPCError) -> [UInt8] {
        var stream = z_stream()
        guard marlise_inflate_init_gzip(&stream) == Z_OK else {
            throw RPCError(.internalError, "zlib cannot start decompressing")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status = Z_OK
        input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while status == Z_OK && output.count <= limit {
                chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk.prefix(chunk.count - Int(stream.avail_out))
                if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
            }
        }
        guard output.count <= limit else {
            throw RPCError(.invalidParameters, "Not a pedalboard archive: more than \(limit >> 20) MiB uncompressed")
        }
        guard status == Z_STREAM_END else {
            throw RPCError(.invalidParameters, "Not a pedalboard archive: bad gzip data")
        }
        return output
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
