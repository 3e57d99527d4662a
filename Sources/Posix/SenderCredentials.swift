import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// One datagram from a Unix socket with `SO_PASSCRED` on, and who sent it.
public struct CredentialedDatagram: Sendable {
    public var bytes: [UInt8]
    /// The sender's PID as the kernel saw it; nil when the message carried no credentials.
    public var pid: Int32?
}

/// Waits for one datagram on `fd` (retrying interrupts); nil once the socket is shut down, on a
/// zero-length read, or on an error.
public func receiveCredentialedDatagram(_ fd: Int32, maxBytes: Int = 4096) -> CredentialedDatagram? {
    var buffer = [UInt8](repeating: 0, count: maxBytes)
    let control = UnsafeMutableRawBufferPointer.allocate(
        byteCount: Int(MARLISE_CREDENTIALS_SPACE),
        alignment: MemoryLayout<cmsghdr>.alignment
    )
    defer { control.deallocate() }
    var credentials = marlise_ucred()
    let (count, carried): (Int, Bool) = buffer.withUnsafeMutableBytes { data in
        var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
        return withUnsafeMutablePointer(to: &vector) { vectorPointer in
            var message = msghdr()
            message.msg_iov = vectorPointer
            message.msg_iovlen = 1
            message.msg_control = control.baseAddress
            message.msg_controllen = control.count
            let count = retryingOnInterrupt { recvmsg(fd, &message, 0) }
            return (count, count > 0 && marlise_received_credentials(&message, &credentials) == 1)
        }
    }
    guard count > 0 else { return nil }
    return CredentialedDatagram(bytes: Array(buffer[..<count]), pid: carried ? credentials.pid : nil)
}
