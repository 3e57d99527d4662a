import Foundation
import Messaging

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
        guard fd >= 0 else { throw NotifySocketError(reason: "socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size))
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
            let reason = String(cString: strerror(errno))
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
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Room for one cmsghdr (16 bytes on 64-bit) and a struct ucred (12), aligned.
        var control = [UInt8](repeating: 0, count: 64)
        while true {
            let count: Int = buffer.withUnsafeMutableBytes { data in
                control.withUnsafeMutableBytes { controlBytes in
                    var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                        var message = msghdr()
                        message.msg_iov = vectorPointer
                        message.msg_iovlen = 1
                        message.msg_control = controlBytes.baseAddress
                        message.msg_controllen = controlBytes.count
                        return recvmsg(fd, &message, 0)
                    }
                }
            }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            if count == 0 { return }  // shut down
            guard let pid = senderPID(control) else { continue }
            var fields: [String: String] = [:]
            for line in String(decoding: buffer.prefix(count), as: UTF8.self).split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            receive(pid, fields)
        }
    }

    /// The PID in an `SCM_CREDENTIALS` control message: `cmsghdr { size_t len; int level; int type }`,
    /// then `ucred { pid_t pid; uid_t uid; gid_t gid }`.
    private static func senderPID(_ control: [UInt8]) -> Int32? {
        control.withUnsafeBytes { raw -> Int32? in
            let level = raw.loadUnaligned(fromByteOffset: 8, as: Int32.self)
            let type = raw.loadUnaligned(fromByteOffset: 12, as: Int32.self)
            guard level == SOL_SOCKET, type == 2 else { return nil }  // SCM_CREDENTIALS
            return raw.loadUnaligned(fromByteOffset: 16, as: Int32.self)
        }
    }
}

struct NotifySocketError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "notify socket: \(reason)" }
}
