import Foundation
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// The open log file and its rotation.
struct LogFile: ~Copyable {
    let path: String
    let maxBytes: Int
    let keep: Int
    var fd: Int32
    var size: Int

    init(path: String, maxBytes: Int, keep: Int) throws(LogError) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = max(1, keep)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LogError(
                path: path,
                reason: errnoText(),
                underlying: POSIXErrorCode(rawValue: errno).map { POSIXError($0) }
            )
        }
        var status = stat()
        size = fstat(fd, &status) == 0 ? Int(status.st_size) : 0
    }

    deinit { close(fd) }

    /// Appends whole lines; rotates first when they would not fit, so no line is split across files.
    mutating func write(_ bytes: [UInt8]) {
        var start = 0
        while start < bytes.count {
            var end = bytes.count
            if size + (end - start) > maxBytes {
                // As much as fits, ending at a newline; at least one line.
                let room = max(0, maxBytes - size)
                if let cut = bytes[start..<min(bytes.count, start + room)].lastIndex(of: 0x0A) {
                    end = cut + 1
                } else if size > 0 {
                    rotate()
                    continue
                } else if let cut = bytes[start...].firstIndex(of: 0x0A) {
                    end = cut + 1
                }
            }
            writeAll(bytes[start..<end])
            size += end - start
            start = end
            if start < bytes.count { rotate() }
        }
    }

    private func writeAll(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = retryingOnInterrupt { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
                // Disk full or gone: the line is lost, the child is never blocked.
                if written < 0 { return }
                offset += written
            }
        }
    }

    /// `name.log` → `name.log.1` → … → `name.log.<keep>`; the oldest is dropped.
    mutating func rotate() {
        unlink("\(path).\(keep)")
        if keep > 1 {
            for index in stride(from: keep - 1, through: 1, by: -1) {
                rename("\(path).\(index)", "\(path).\(index + 1)")
            }
        }
        rename(path, "\(path).1")
        let fresh = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        if fresh >= 0 {
            close(fd)
            fd = fresh
        }
        size = 0
    }
}
