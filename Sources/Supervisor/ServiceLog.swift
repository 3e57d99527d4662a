import Foundation
import Locking
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// A log file could not be opened or written.
public struct LogError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    /// The file error or errno behind it, kept for the log.
    public var underlying: (any Error)? = nil
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
    private let drained = Locked<[OneShot<Void>]>([])

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
            throw LogError(
                path: directory,
                reason: "cannot create the log folder: \(error.localizedDescription)",
                underlying: error
            )
        }
        self.name = name
        path = (directory as NSString).appendingPathComponent("\(fileName ?? name).log")
        file = Locked(try LogFile(path: path, maxBytes: maxBytes, keep: keep))
        self.echo = echo
    }

    /// New pipes for a child's stdout and stderr, drained into this log until the child (and every
    /// process sharing the pipes) has closed them.
    public func attach() throws(LogError) -> LogPipes {
        let output = try makeLogPipe(for: path)
        let error: (read: Int32, write: Int32)
        do {
            error = try makeLogPipe(for: path)
        } catch {
            close(output.read)
            close(output.write)
            throw error
        }
        let done = OneShot<Void>()
        drained.withLock { $0.append(done) }
        let reading = (output.read, error.read)
        Thread { [self] in
            drain(output: reading.0, error: reading.1)
            done.fulfil(())
            drained.withLock { $0.removeAll { $0 === done } }
        }.start()
        return LogPipes(standardOutput: output.write, standardError: error.write)
    }

    /// Waits until every attached child's output is in the file (or the waiting task is cancelled).
    public func waitUntilDrained() async {
        for done in drained.withLock({ $0 }) { _ = try? await done.value }
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

    func write(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        file.withLock { $0.write(bytes) }
        if echo { Echo.write(bytes, service: name) }
    }

}
