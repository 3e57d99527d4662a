#if canImport(Glibc)
import Glibc
#endif

/// One of a child's streams being cut into lines: its descriptor, its tag in the log, and the
/// unfinished line a read ended in.
struct LogStream {
    let fd: Int32
    let tag: String
    var open = true
    var partial: [UInt8] = []
}

extension ServiceLog {
    /// Cuts a chunk into timestamped lines (one timestamp per chunk), keeping an unfinished last line.
    func split(_ chunk: UnsafeBufferPointer<UInt8>, stream: inout LogStream) -> [UInt8] {
        var prefix = LogTimestamp.now()
        prefix.append(0x20)
        prefix.append(contentsOf: stream.tag.utf8)
        prefix.append(0x20)
        var out: [UInt8] = []
        out.reserveCapacity(chunk.count + chunk.count / 2 + 256)
        guard let base = chunk.baseAddress else { return out }
        var start = 0
        while start < chunk.count, let found = memchr(base + start, 0x0A, chunk.count - start) {
            let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            out.append(contentsOf: prefix)
            if !stream.partial.isEmpty {
                out.append(contentsOf: stream.partial)
                stream.partial.removeAll(keepingCapacity: true)
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<newline]))
            out.append(0x0A)
            start = newline + 1
        }
        stream.partial.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start...]))
        // A line without end is cut at 64 KiB, so one endless line cannot grow without bound.
        while stream.partial.count >= Self.longestLine {
            out.append(contentsOf: prefix)
            out.append(contentsOf: stream.partial[..<Self.longestLine])
            out.append(0x0A)
            stream.partial.removeFirst(Self.longestLine)
        }
        return out
    }

    static let longestLine = 64 << 10

    func append(stamp: [UInt8], stream: String, line: ArraySlice<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: stamp)
        out.append(0x20)
        out.append(contentsOf: stream.utf8)
        out.append(0x20)
        out.append(contentsOf: line)
        out.append(0x0A)
    }

}
