#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking listening TCP socket on an IPv4 address: the one listen/accept every server of
/// the stack uses. Its owner closes ``fd`` (``close()``) when done; the value itself owns nothing.
public struct TCPListener: Sendable {
    public let fd: Int32

    /// Binds `host:port` (port 0: any free port, see ``port``) and listens; `SO_REUSEADDR`, so a
    /// restart binds again at once while old connections linger in TIME_WAIT.
    public init(host: String, port: UInt16, backlog: Int32 = 64) throws(PosixError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw PosixError("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(fd)
            throw PosixError("'\(host)' is not an IPv4 address", code: EINVAL)
        }
        var yes: Int32 = 1
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size)) == 0
                    && bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound, listen(fd, backlog) == 0 else {
            let failure = PosixError("cannot listen on \(host):\(port)")
            Glibc.close(fd)
            throw failure
        }
        self.fd = fd
    }

    /// A listener already open, e.g. one a caller keeps as a bare descriptor.
    public init(fd: Int32) { self.fd = fd }

    /// The port listened on; `nil` once closed.
    public var port: UInt16? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 ? UInt16(bigEndian: address.sin_port) : nil
    }

    /// One waiting connection, non-blocking and close-on-exec; nil when none is waiting (or it
    /// could not be set up, in which case it is closed). `noDelay` turns Nagle off, for small
    /// replies a client waits on.
    public func accept(noDelay: Bool = false) -> Int32? {
        let connection = retryingOnInterrupt { Glibc.accept(fd, nil, nil) }
        guard connection >= 0 else { return nil }
        var yes: Int32 = 1
        let flags = fcntl(connection, F_GETFL)
        guard fcntl(connection, F_SETFD, FD_CLOEXEC) == 0, flags >= 0,
            fcntl(connection, F_SETFL, flags | O_NONBLOCK) == 0,
            !noDelay
                || setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                    == 0
        else {
            Glibc.close(connection)
            return nil
        }
        return connection
    }

    public func close() { Glibc.close(fd) }
}
