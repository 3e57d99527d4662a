// The host's sockets: Posix's TCP listener and pipe, with the host's error type.

import ModHostWire
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking listening TCP socket on an IPv4 address.
func listenTCP(address: String, port: UInt16) throws(HostFailure) -> Int32 {
    do {
        return try TCPListener(host: address, port: port, backlog: 16).fd
    } catch {
        throw HostFailure(.invalidOperation, error.description)
    }
}

/// Accepts one waiting connection, non-blocking, with TCP_NODELAY (replies are small and awaited).
func acceptConnection(_ listener: Int32) -> Int32? {
    TCPListener(fd: listener).accept(noDelay: true)
}

/// Reads what is available: bytes, `[]` at end of stream, nil when nothing is there yet.
func receive(_ fd: Int32) -> [UInt8]? { TCPConnection.receive(fd) }

/// Sends as much of `bytes` as the socket takes now; returns how many, or nil when the peer is gone.
func sendSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int? { TCPConnection.sendSome(fd, bytes) }

/// A pipe whose write end may be used from signal handlers and libjack threads to wake the loop.
struct WakePipe {
    let read: Int32
    let write: Int32

    /// Stops the process when no pipe can be made: at startup that means no descriptors are left.
    init() {
        do {
            (read, write) = try makePipe(nonBlocking: true)
        } catch {
            fatalError("cannot make the host's wake pipe: \(error)")
        }
    }

    func drain() {
        var byte: UInt8 = 0
        while retryingOnInterrupt({ Glibc.read(read, &byte, 1) }) > 0 {}
    }
}
