import Foundation
import Locking

#if canImport(Glibc)
import Glibc
#endif

/// The write ends of a child's stdout and stderr pipes; the child gets them, the caller closes them.
public struct LogPipes: Sendable {
    public let standardOutput: Int32
    public let standardError: Int32
}

/// A log file could not be opened or written.
public struct LogError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// One service's log: `<directory>/<fileName>.log`, one timestamped line per line the child writes,
/// tagged with its stream, rotated by size.
///
/// The child's pipes are drained all the time on a thread of their own, in large reads, so a chatty
/// child never blocks on a full pipe; lines are written in batches.
public final class ServiceLog: Sendable {
    public let name: String
    public let path: String
    private let file: Locked<LogFile>
    private let echo: Bool
    private let drained = Locked<[OneShotBox]>([])

    /// Opens (creating the folder if needed) `<directory>/<fileName>.log` for appending; `name`, the
    /// service's, prefixes the lines echoed on the terminal.
    public init(
        directory: String,
        name: String,
        fileName: String? = nil,
        maxBytes: Int = 10 << 20,
        keep: Int = 5,
        echo: Bool = false
    )
        throws(LogError)
    {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LogError(path: directory, reason: "cannot create the log folder: \(error.localizedDescription)")
        }
        self.name = name
        path = (directory as NSString).appendingPathComponent("\(fileName ?? name).log")
        file = Locked(try LogFile(path: path, maxBytes: maxBytes, keep: keep))
        self.echo = echo
    }

    /// New pipes for a child's stdout and stderr, drained into this log until the child (and every
    /// process sharing the pipes) has closed them.
    public func attach() throws(LogError) -> LogPipes {
        var output: [Int32] = [0, 0]
        var error: [Int32] = [0, 0]
        guard makePipe(&output) else { throw LogError(path: path, reason: "pipe: \(errnoText())") }
        guard makePipe(&error) else {
            close(output[0])
            close(output[1])
            throw LogError(path: path, reason: "pipe: \(errnoText())")
        }
        let done = OneShotBox()
        drained.withLock { $0.append(done) }
        let reading = (output[0], error[0])
        Thread { [self] in
            drain(output: reading.0, error: reading.1)
            done.fulfil()
            drained.withLock { $0.removeAll { $0 === done } }
        }.start()
        return LogPipes(standardOutput: output[1], standardError: error[1])
    }

    /// Waits until every attached child's output is in the file.
    public func waitUntilDrained() async {
        for done in drained.withLock({ $0 }) { await done.wait() }
    }

    /// One line from the supervisor itself, stream `supervisor`.
    public func record(_ message: String) {
        let stamp = LogTimestamp.now()
        var bytes: [UInt8] = []
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            append(stamp: stamp, stream: "supervisor", line: Array(line.utf8)[...], to: &bytes)
        }
        write(bytes)
    }

    private func drain(output: Int32, error: Int32) {
        var streams = [Stream(fd: output, tag: "stdout"), Stream(fd: error, tag: "stderr")]
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while streams.contains(where: { $0.open }) {
            var items = streams.map { pollfd(fd: $0.open ? $0.fd : -1, events: Int16(POLLIN), revents: 0) }
            guard poll(&items, nfds_t(items.count), -1) >= 0 || errno == EINTR else { break }
            for index in streams.indices where streams[index].open && items[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(streams[index].fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    streams[index].open = false
                    var tail: [UInt8] = []
                    if !streams[index].partial.isEmpty {
                        append(
                            stamp: LogTimestamp.now(),
                            stream: streams[index].tag,
                            line: streams[index].partial[...],
                            to: &tail
                        )
                        streams[index].partial.removeAll()
                    }
                    write(tail)
                    close(streams[index].fd)
                    continue
                }
                let lines = buffer.withUnsafeBufferPointer {
                    split(UnsafeBufferPointer(rebasing: $0[..<count]), stream: &streams[index])
                }
                write(lines)
            }
        }
        for stream in streams where stream.open { close(stream.fd) }
    }

    /// Cuts a chunk into timestamped lines (one timestamp per chunk), keeping an unfinished last line.
    private func split(_ chunk: UnsafeBufferPointer<UInt8>, stream: inout Stream) -> [UInt8] {
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

    private func append(stamp: [UInt8], stream: String, line: ArraySlice<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: stamp)
        out.append(0x20)
        out.append(contentsOf: stream.utf8)
        out.append(0x20)
        out.append(contentsOf: line)
        out.append(0x0A)
    }

    private func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        file.withLock { $0.write(bytes) }
        if echo { Echo.write(bytes, service: name) }
    }

    private struct Stream {
        let fd: Int32
        let tag: String
        var open = true
        var partial: [UInt8] = []
    }
}

/// The open log file and its rotation.
private struct LogFile: ~Copyable {
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
        guard fd >= 0 else { throw LogError(path: path, reason: errnoText()) }
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
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // disk full or gone: the line is lost, the child is never blocked
                }
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

/// Lines echoed on the supervisor's stderr, `name | line`, coloured per service on a terminal.
private enum Echo {
    static let colours = ["36", "32", "33", "35", "34", "31"]
    static let terminal = isatty(STDERR_FILENO) == 1

    static func write(_ bytes: [UInt8], service: String) {
        let colour = colours[Int(CRC32Small.hash(service) % UInt32(colours.count))]
        let padded = service.padding(toLength: 8, withPad: " ", startingAt: 0)
        let text = terminal ? "\u{1B}[\(colour)m\(padded) |\u{1B}[0m " : "\(padded) | "
        let prefix = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        var start = 0
        while let newline = bytes[start...].firstIndex(of: 0x0A) {
            out.append(contentsOf: prefix)
            // Drop the timestamp and stream: the terminal shows them as they come.
            let line = bytes[start..<newline]
            let afterStamp = line.firstIndex(of: 0x20).map { line.index(after: $0) } ?? line.startIndex
            let afterStream = line[afterStamp...].firstIndex(of: 0x20).map { line.index(after: $0) } ?? afterStamp
            out.append(contentsOf: line[afterStream...])
            out.append(0x0A)
            start = newline + 1
        }
        out.withUnsafeBytes { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// A stable small hash for picking a colour.
private enum CRC32Small {
    static func hash(_ text: String) -> UInt32 { text.utf8.reduce(5381) { ($0 &* 33) &+ UInt32($1) } }
}

/// Local time with milliseconds, `2026-11-23T02:52:15.123`, as bytes.
enum LogTimestamp {
    static func now() -> [UInt8] {
        var now = timeval()
        gettimeofday(&now, nil)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(23)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var value = value
            while divisor > 0 {
                out.append(UInt8(48 + value / divisor))
                value %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(0x2D)
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(0x2D)
        digits(Int(parts.tm_mday), 2)
        out.append(0x54)
        digits(Int(parts.tm_hour), 2)
        out.append(0x3A)
        digits(Int(parts.tm_min), 2)
        out.append(0x3A)
        digits(Int(parts.tm_sec), 2)
        out.append(0x2E)
        digits(Int(now.tv_usec) / 1000, 3)
        return out
    }
}

/// A completion a draining thread signals and tasks await.
private final class OneShotBox: Sendable {
    private let state = Locked<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fulfil() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// A pipe whose ends close on exec (Glibc's Swift module has no `pipe2`); the child gets its end
/// through the spawn's explicit descriptor actions only.
private func makePipe(_ ends: inout [Int32]) -> Bool {
    guard pipe(&ends) == 0 else { return false }
    for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    // 1 MiB instead of 64 KiB: a chatty child writes longer before the reader must run.
    let setPipeSize: Int32 = 1031  // F_SETPIPE_SZ, which Glibc's Swift module lacks
    _ = fcntl(ends[1], setPipeSize, Int32(1 << 20))
    return true
}
