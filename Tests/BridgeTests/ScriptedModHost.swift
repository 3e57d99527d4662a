import Bridge
import Foundation
import Locking
import ModHostWire

#if canImport(Glibc)
import Glibc
#endif

/// A scripted peer that behaves as docs/protocols/mod-host.md records mod-host's sockets: two listeners, one client
/// at a time, the feedback connection accepted before any command is read, NUL framing. Protocol
/// tests only: the bridge's end-to-end tests run against a real host.
final class ScriptedModHost: Sendable {
    let commandPort: Int
    let feedbackPort: Int
    private let listeners: (Int32, Int32)
    private let shared = Shared()

    private final class Shared: Sendable {
        let received = Locked<[String]>([])
        let feedback = Locked<Int32>(-1)
        let client = Locked<Int32>(-1)
        let connections = Locked(0)
        /// The most commands one read brought: above 1 only when a client sent before it was answered.
        let largestBatch = Locked(0)
    }

    /// `respond` gives the reply to each command (without NUL), or `nil` to stay silent.
    /// `ports` reuses a crashed peer's ports, as a restarted mod-host would.
    init(ports: (Int, Int)? = nil, respond: @Sendable @escaping (String) -> String?) throws {
        let command = try Self.bound(listening: true, port: ports?.0 ?? 0)
        let feedback = try Self.bound(listening: true, port: ports?.1 ?? 0)
        listeners = (command.fd, feedback.fd)
        commandPort = command.port
        feedbackPort = feedback.port
        let shared = shared
        Thread {
            // The listeners are closed here, by their only user, once ``stop()`` has shut them down:
            // a number closed elsewhere could be reused at once by another test's socket.
            defer {
                close(command.fd)
                close(feedback.fd)
            }
            while true {
                let client = accept(command.fd, nil, nil)
                if client < 0 { return }
                // As mod-host: no command is read before a feedback connection is accepted.
                let paired = accept(feedback.fd, nil, nil)
                if paired < 0 {
                    close(client)
                    return
                }
                var on: Int32 = 1
                setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                shared.feedback.withLock { $0 = paired }
                shared.client.withLock { $0 = client }
                shared.connections.withLock { $0 += 1 }
                var framer = NULFramer()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    let messages = (try? framer.messages(after: buffer[..<count])) ?? []
                    shared.largestBatch.withLock { $0 = max($0, messages.count) }
                    for message in messages {
                        let text = String(decoding: message, as: UTF8.self)
                        shared.received.withLock { $0.append(text) }
                        guard let reply = respond(text) else { continue }
                        let bytes = NULFramer.frame(reply)
                        // Sent in two pieces, so the client must reassemble.
                        let half = bytes.count / 2
                        _ = bytes[..<half].withUnsafeBytes {
                            Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                        }
                        _ = bytes[half...].withUnsafeBytes {
                            Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                        }
                    }
                }
                shared.client.withLock { $0 = -1 }
                close(client)
                shared.feedback.withLock { fd in
                    close(fd)
                    fd = -1
                }
            }
        }.start()
    }

    /// Commands received so far, in order.
    var received: [String] { shared.received.withLock { $0 } }

    var connections: Int { shared.connections.withLock { $0 } }

    /// The most commands that arrived together in one read.
    var largestBatch: Int { shared.largestBatch.withLock { $0 } }

    /// Writes NUL-terminated messages on the current feedback connection.
    func pushFeedback(_ messages: [String]) {
        let bytes: [UInt8] = messages.flatMap(NULFramer.frame)
        shared.feedback.withLock { fd in
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Stops listening: later connections are refused. The serving thread closes the listeners
    /// when it next returns to them.
    func stop() {
        shutdown(listeners.0, Int32(SHUT_RDWR))
        shutdown(listeners.1, Int32(SHUT_RDWR))
    }

    /// As mod-host dying: listeners and the current client's pair are shut down at once.
    func crash() {
        stop()
        shared.client.withLock { fd in if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) } }
        shared.feedback.withLock { fd in if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    /// Connects to `port` on 127.0.0.1 and closes at once, sending nothing.
    static func connectAndClose(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
    }

    /// A port on 127.0.0.1 bound but not listening: connecting to it is refused.
    static func reservePort() throws -> (fd: Int32, port: Int) { try bound(listening: false) }

    private static func bound(listening: Bool, port: Int = 0) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && (!listening || Glibc.listen(fd, 8) == 0)
                    && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw CocoaError(.fileWriteUnknown)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
