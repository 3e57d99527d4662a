#if canImport(Glibc)
import Glibc
#endif

/// The numeric address of a connected socket's peer (`127.0.0.1`, `::1`), or `unknown`: what
/// ``ActionPolicy`` decides on.
func peerAddress(_ fd: Int32) -> String {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let named = withUnsafeMutablePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            guard getpeername(fd, address, &length) == 0 else { return false }
            return getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
        }
    }
    guard named else { return "unknown" }
    return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
