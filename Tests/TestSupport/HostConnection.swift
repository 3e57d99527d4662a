import Foundation
import ModHostWire

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client of the host's command or feedback port, blocking with a timeout.
public final class HostConnection: @unchecked Sendable {  // Used by one test at a time.
    public private(set) var fd: Int32
    private var framer = NULFramer()

    public init(port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            // deinit runs for this failed init too (every property is set): close exactly once, or a
            // second close may hit a descriptor another thread has opened under the same number since.
            shut()
            throw TestFailure("cannot connect to port \(port): \(reason)")
        }
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        setTimeout(timeout)
    }

    deinit { shut() }

    public func shut() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    public func setTimeout(_ seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    public func write(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw TestFailure("send failed") }
    }

    /// The next NUL-terminated message, or nil on timeout or end of stream.
    public func message() throws -> String? {
        while true {
            if let message = try framer.next() { return String(decoding: message, as: UTF8.self) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            framer.append(chunk[0..<count])
        }
    }

    /// Sends one command with its NUL and returns the reply.
    public func call(_ command: String) throws -> String {
        try write(NULFramer.frame(command))
        guard let reply = try message() else { throw TestFailure("no reply to '\(command)'") }
        return reply
    }
}
