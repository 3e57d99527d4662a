import Foundation
import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's end of the sd_notify protocol, for its own children: what systemd is to the
/// supervisor, this is to them.
///
/// A datagram socket in the abstract namespace with `SO_PASSCRED`, so every message carries the
/// sender's PID as the kernel saw it; children find it in `NOTIFY_SOCKET`.
final class NotifySocket: Sendable {
    /// `@marlise-<pid>-<random>-notify`: what children get as `NOTIFY_SOCKET`.
    let address: String
    private let fd: Int32

    /// Every message, in the order received, with the sender's PID as the kernel saw it.
    let messages: AsyncStream<Notice>

    /// One datagram: its sender and its `KEY=value` fields.
    struct Notice: Sendable {
        var pid: Int32
        var fields: [String: String]
    }

    /// Binds the socket; a thread of its own reads it into ``messages`` until ``close()``.
    init() throws {
        // Unique per supervisor, not just per process: tests run several in one process.
        let name = "marlise-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-notify"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NotifySocketError(reason: "socket: \(errnoText())") }
        var on: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let reason = errnoText()
            Glibc.close(fd)
            throw NotifySocketError(reason: "SO_PASSCRED: \(reason)")
        }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            path[0] = 0  // abstract: no file to clean up after a crash
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let reason = errnoText()
            Glibc.close(fd)
            throw NotifySocketError(reason: "bind @\(name): \(reason)")
        }
        self.fd = fd
        address = "@" + name
        let (messages, sink) = AsyncStream<Notice>.makeStream()
        self.messages = messages
        Thread {
            NotifySocket.serve(fd: fd) { sink.yield(Notice(pid: $0, fields: $1)) }
            Glibc.close(fd)
            sink.finish()
        }.start()
    }

    /// Stops receiving: the serving thread wakes, closes the socket and ends.
    func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    private static func serve(fd: Int32, receive: (Int32, [String: String]) -> Void) {
        // Ends when the socket is shut down (``close()``) or fails.
        while let datagram = receiveCredentialedDatagram(fd) {
            guard let pid = datagram.pid else { continue }
            var fields: [String: String] = [:]
            for line in String(decoding: datagram.bytes, as: UTF8.self).split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            receive(pid, fields)
        }
    }
}

struct NotifySocketError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "notify socket: \(reason)" }
}
