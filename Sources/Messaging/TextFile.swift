import Posix

#if canImport(Glibc)
import Glibc
#endif

/// The contents of a small file as text, read with `read(2)` up to its end; `nil` if it cannot be
/// opened or read.
///
/// For files under `/proc`, and any file that may be empty: swift-foundation's
/// `String(contentsOfFile:encoding:)` leaks its 4 KiB read buffer whenever the file's size reads as
/// 0, which is the size of every `/proc` file, so a caller that reads one per request grows without
/// bound (found by AddressSanitizer's leak check; see docs/development.md).
public func readTextFile(atPath path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = retryingOnInterrupt { buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        if count < 0 { return nil }
        if count == 0 { break }
        bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
