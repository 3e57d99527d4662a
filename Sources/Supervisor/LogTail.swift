import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Follows a service's log file for the operator's page: the lines added since the last look.
///
/// Reads the file rather than tapping the drain threads, so the log's hot path is untouched; a file
/// smaller than last time was rotated and is read from its start. At most 64 KiB a look, so a burst
/// costs one bounded read.
struct LogTail {
    let path: String
    private var offset: Int?
    private var partial: [UInt8] = []
    static let maxRead = 64 << 10

    init(path: String) { self.path = path }

    /// New whole lines; the first look starts near the end (the last 8 KiB).
    mutating func read() -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return [] }
        let size = Int(info.st_size)
        var start: Int
        var skipFirst = false
        if let offset, offset <= size {
            start = offset
        } else if offset == nil {
            start = max(0, size - 8192)
            skipFirst = start > 0
        } else {
            start = 0
            partial = []
        }
        start = max(start, size - Self.maxRead)
        guard size > start else {
            offset = size
            return []
        }
        var buffer = [UInt8](repeating: 0, count: size - start)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
        guard count > 0 else { return [] }
        offset = start + count
        var bytes = partial + buffer[..<count]
        if skipFirst, let newline = bytes.firstIndex(of: 10) { bytes.removeSubrange(...newline) }
        guard let last = bytes.lastIndex(of: 10) else {
            partial = bytes
            return []
        }
        partial = Array(bytes[(last + 1)...])
        return bytes[..<last].split(separator: 10, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
