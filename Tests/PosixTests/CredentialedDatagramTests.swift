import CLinux
import Posix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify side: datagrams on a Unix socket with SO_PASSCRED carry the sender's PID.
@Suite(.timeLimit(.minutes(1))) struct CredentialedDatagramTests {
    @Test func controlMessageLayoutIsTheKernels() {
        #expect(MARLISE_SCM_CREDENTIALS == 2)
        #expect(MemoryLayout<marlise_ucred>.size == 12)
        let header = MemoryLayout<cmsghdr>.size
        #expect(marlise_cmsg_len(12) == header + 12)
        #expect(marlise_cmsg_space(12) == header + 16)  // padded to size_t
        #expect(MARLISE_CREDENTIALS_SPACE == marlise_cmsg_space(12))
    }

    @Test func kernelAddsTheSendersPID() throws {
        let (receiver, sender) = try pair()
        defer {
            close(receiver)
            close(sender)
        }
        let text = Array("READY=1\nSTATUS=up".utf8)
        #expect(text.withUnsafeBytes { send(sender, $0.baseAddress, $0.count, 0) } == text.count)
        let datagram = try #require(receiveCredentialedDatagram(receiver))
        #expect(datagram.bytes == text)
        #expect(datagram.pid == getpid())
    }

    @Test func explicitCredentialsRoundTripThroughTheShim() throws {
        let (receiver, sender) = try pair()
        defer {
            close(receiver)
            close(sender)
        }
        var credentials = marlise_ucred(pid: getpid(), uid: getuid(), gid: getgid())
        let control = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(MARLISE_CREDENTIALS_SPACE),
            alignment: MemoryLayout<cmsghdr>.alignment
        )
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0)
        var text = Array("WATCHDOG=1".utf8)
        let sent = text.withUnsafeMutableBytes { data in
            var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
            return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                message.msg_control = control.baseAddress
                message.msg_controllen = control.count
                marlise_attach_credentials(&message, &credentials)
                let header = marlise_cmsg_firsthdr(&message)!
                #expect(header.pointee.cmsg_type == MARLISE_SCM_CREDENTIALS)
                #expect(header.pointee.cmsg_len == marlise_cmsg_len(12))
                #expect(
                    marlise_cmsg_data(header) == UnsafeMutableRawPointer(header).assumingMemoryBound(to: UInt8.self)
                        + MemoryLayout<cmsghdr>.size
                )
                return retryingOnInterrupt { sendmsg(sender, &message, 0) }
            }
        }
        #expect(sent == text.count)
        let datagram = try #require(receiveCredentialedDatagram(receiver))
        #expect(datagram.bytes == text)
        #expect(datagram.pid == getpid())
    }

    @Test func withoutPassCredentialsThereIsNoPID() throws {
        let (receiver, sender) = try pair(passCredentials: false)
        defer {
            close(receiver)
            close(sender)
        }
        var byte: UInt8 = 65
        #expect(send(sender, &byte, 1, 0) == 1)
        let datagram = try #require(receiveCredentialedDatagram(receiver))
        #expect(datagram.bytes == [65])
        #expect(datagram.pid == nil)
    }

    @Test func shutDownSocketEndsReceiving() throws {
        let (receiver, sender) = try pair()
        defer {
            close(receiver)
            close(sender)
        }
        shutdown(receiver, Int32(SHUT_RDWR))
        #expect(receiveCredentialedDatagram(receiver) == nil)
    }

    /// A connected datagram pair; the receiver asks for credentials, reads bounded by 5 s.
    private func pair(passCredentials: Bool = true) throws -> (receiver: Int32, sender: Int32) {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        var on: Int32 = passCredentials ? 1 : 0
        try #require(setsockopt(fds[0], SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return (fds[0], fds[1])
    }
}
