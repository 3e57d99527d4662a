#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes on a connected non-blocking socket, as ``TCPListener/accept(noDelay:)`` gives.
public enum TCPConnection {
    /// What is there to read: bytes, `[]` at end of stream or on error, nil when nothing is there yet.
    public static func receive(_ fd: Int32, upTo limit: Int = 16384) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = retryingOnInterrupt { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
        if count > 0 { return Array(buffer[0..<count]) }
        if count == 0 { return [] }
        return errno == EAGAIN || errno == EWOULDBLOCK ? nil : []
    }

    /// Sends what the socket takes now (never raising SIGPIPE): how many bytes, 0 when it takes none
    /// yet, nil when the peer is gone.
    public static func sendSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int? {
        let count = retryingOnInterrupt {
            bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        if count >= 0 { return count }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
    }
}
