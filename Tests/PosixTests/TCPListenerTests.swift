import Posix
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(1))) struct TCPListenerTests {
    @Test func acceptsReadsAndWrites() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let port = try #require(listener.port)
        #expect(port != 0)
        #expect(listener.accept() == nil)  // nobody waiting: no blocking, no connection

        let client = try connect(port: port)
        defer { close(client) }
        #expect(waitReadable(listener.fd))
        let server = try #require(listener.accept(noDelay: true))
        defer { close(server) }
        #expect(fcntl(server, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(server, F_GETFD) & FD_CLOEXEC != 0)
        var noDelay: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        #expect(getsockopt(server, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, &length) == 0 && noDelay != 0)

        #expect(TCPConnection.receive(server) == nil)  // nothing sent yet
        let ping = Array("ping".utf8)
        #expect(ping.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) } == ping.count)
        #expect(waitReadable(server))
        #expect(TCPConnection.receive(server) == ping)

        #expect(TCPConnection.sendSome(server, Array("pong".utf8)[...]) == 4)
        var reply = [UInt8](repeating: 0, count: 16)
        let count = retryingOnInterrupt { reply.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) } }
        #expect(count == 4)
        #expect(Array(reply.prefix(max(0, count))) == Array("pong".utf8))

        shutdown(client, Int32(SHUT_WR))
        #expect(waitReadable(server))
        #expect(TCPConnection.receive(server) == [])  // end of stream
    }

    @Test func refusesATakenPortSayingWhy() throws {
        let first = try TCPListener(host: "127.0.0.1", port: 0)
        defer { first.close() }
        let port = try #require(first.port)
        do {
            let second = try TCPListener(host: "127.0.0.1", port: port)
            second.close()
            Issue.record("a second listener bound \(port)")
        } catch {
            #expect(error.code == EADDRINUSE)
            #expect(error.description == "cannot listen on 127.0.0.1:\(port): Address already in use")
        }
    }

    @Test func refusesAHostThatIsNoIPv4Address() {
        #expect(throws: PosixError.self) { try TCPListener(host: "localhost:80", port: 0) }
    }

    @Test func sendingToAClosedPeerSaysGoneWithoutSIGPIPE() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        let client = try connect(port: try #require(listener.port))
        #expect(waitReadable(listener.fd))
        let server = try #require(listener.accept())
        defer { close(server) }
        var linger = linger(l_onoff: 1, l_linger: 0)  // close with a reset
        setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        close(client)
        #expect(waitReadable(server))
        var gone = false
        for _ in 0..<100 where !gone {
            gone = TCPConnection.sendSome(server, Array(repeating: 1, count: 1024)[...]) == nil
        }
        #expect(gone)
    }

    /// A blocking client socket connected to 127.0.0.1:`port`, reads bounded by 5 s.
    private func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw PosixError("connect to \(port)")
        }
        return fd
    }

    /// Whether `fd` becomes readable within 5 s.
    private func waitReadable(_ fd: Int32) -> Bool {
        var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return retryingOnInterrupt { poll(&item, 1, 5000) } == 1
    }
}
