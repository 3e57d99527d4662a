// Every POSIX socket call of the host lives in this file.

import Foundation
import ModHostWire

#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on an IPv4 address.
func listenTCP(address: String, port: UInt16) throws(HostFailure) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw HostFailure(.invalidOperation, "socket: \(errnoText())") }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_port = port.bigEndian
    guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
        close(fd)
        throw HostFailure(.invalidOperation, "'\(address)' is not an IPv4 address")
    }
    let bound = withUnsafePointer(to: &socketAddress) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
        let text = errnoText()
        close(fd)
        throw HostFailure(.invalidOperation, "cannot listen on \(address):\(port): \(text)")
    }
    setNonBlocking(fd)
    return fd
}

/// Accepts one waiting connection, non-blocking, with TCP_NODELAY (replies are small and awaited).
func acceptConnection(_ listener: Int32) -> Int32? {
    let fd = accept(listener, nil, nil)
    guard fd >= 0 else { return nil }
    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    setNonBlocking(fd)
    var yes: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

func setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
}

/// Reads what is available: bytes, `[]` at end of stream, nil when nothing is there yet.
func receive(_ fd: Int32) -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count > 0 { return Array(buffer[0..<count]) }
        if count == 0 { return [] }
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
        return []
    }
}

/// Sends as much of `bytes` as the socket takes now; returns how many, or nil when the peer is gone.
func sendSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int? {
    while true {
        let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if count >= 0 { return count }
        if errno == EINTR { continue }
        if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
        return nil
    }
}

/// A pipe whose write end may be used from signal handlers and libjack threads to wake the loop.
struct WakePipe {
    let read: Int32
    let write: Int32

    init() {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        read = fds[0]
        write = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            setNonBlocking(fd)
        }
    }

    func drain() {
        var byte: UInt8 = 0
        while Glibc.read(read, &byte, 1) > 0 {}
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
