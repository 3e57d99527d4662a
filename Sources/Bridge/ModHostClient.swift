public import Foundation
import Messaging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why a command did not get mod-host's answer.
public struct ModHostError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not connected, or the connection broke: mod-host is down or restarting.
        case unavailable
        /// No reply within the timeout; the connection is dropped, since a late reply would answer
        /// the next command.
        case timeout
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// One persistent connection pair to mod-host: the command socket and the feedback socket, opened
/// together (mod-host accepts the feedback connection before it reads any command) and closed
/// command-first (closing only the feedback side wedges mod-host at 100 % CPU, `modhost.md` bug 1).
///
/// Commands are sent one at a time, each whole and NUL-terminated in one write, and each reply is
/// read up to its NUL. Feedback messages are delivered in ``feedback``; after every `data_finish`
/// the client sends `output_data_ready`, so mod-host keeps sending.
///
/// - Important: The sockets are blocking and owned by threads of their own, never the cooperative pool.
public final class ModHostClient: Sendable {
    public let host: String
    public let commandPort: Int
    public let feedbackPort: Int
    public let timeout: Duration
    /// Every feedback message (`output_set …`, `param_set …`, `transport …`), `data_finish` excluded.
    public let feedback: AsyncStream<String>
    private let feedbackInput: AsyncStream<String>.Continuation
    private let state = Mutex(Connection())
    /// Serialises commands: one in flight on the socket at a time.
    private let turn = Mutex(false)
    private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])

    private struct Connection {
        var command: Int32 = -1
        var feedback: Int32 = -1
        /// Set by ``close()``: no command connects again.
        var closed = false
    }

    public init(
        host: String = "127.0.0.1",
        commandPort: Int = 5555,
        feedbackPort: Int = 5556,
        timeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.commandPort = commandPort
        self.feedbackPort = feedbackPort
        self.timeout = timeout
        (feedback, feedbackInput) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(4096))
    }

    deinit {
        // No command is in flight: each holds a reference to the client until it ends.
        state.withLock { connection in
            if connection.command >= 0 { Glibc.close(connection.command) }
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
        }
    }

    /// Sends `command` and returns mod-host's reply; connects first when not connected.
    public func send(_ command: ModHostCommand) async throws(ModHostError) -> ModHostReply {
        await acquireTurn()
        defer { releaseTurn() }
        let outcome: Result<ModHostReply, ModHostError> = await withCheckedContinuation { continuation in
            Thread { [self] in continuation.resume(returning: exchange(command)) }.start()
        }
        return try outcome.get()
    }

    /// Closes the connection for good; later commands fail as `unavailable`. A command in flight is
    /// woken with `unavailable`.
    public func close() {
        state.withLock { connection in
            connection.closed = true
            // Shut down, not closed: a command in flight may still hold the descriptor, and only its
            // owner closes it (a closed number can be reused at once by any other socket).
            if connection.command >= 0 { shutdown(connection.command, Int32(SHUT_RDWR)) }
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
        }
    }

    /// Closes both sockets, command first; the next command connects again. Only the command's own
    /// thread calls this, while it holds the turn.
    private func disconnect() {
        state.withLock { connection in
            if connection.command >= 0 { Glibc.close(connection.command) }
            // The feedback reader owns that descriptor: it closes it once woken.
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
            connection.command = -1
            connection.feedback = -1
        }
    }

    public var isConnected: Bool { state.withLock { $0.command >= 0 } }

    // MARK: - On the I/O threads

    private func exchange(_ command: ModHostCommand) -> Result<ModHostReply, ModHostError> {
        if state.withLock({ $0.closed }) { return .failure(ModHostError(kind: .unavailable, message: "client closed")) }
        if !isConnected, let failure = connect() { return .failure(failure) }
        let fd = state.withLock { $0.command }
        let bytes = [UInt8](command.wire)
        let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard written == bytes.count else {
            disconnect()
            return .failure(ModHostError(kind: .unavailable, message: "mod-host closed the connection"))
        }
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(
                &item,
                1,
                Int32(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            )
            if ready == 0 {
                disconnect()
                return .failure(ModHostError(kind: .timeout, message: "no reply to '\(command)' within \(timeout)"))
            }
            if ready < 0 && errno == EINTR { continue }
            // Replies are short; one byte at a time keeps the next reply's bytes in the socket.
            let count = recv(fd, &byte, 1, 0)
            if count <= 0 {
                disconnect()
                return .failure(ModHostError(kind: .unavailable, message: "mod-host closed the connection"))
            }
            if byte == 0 { return .success(ModHostReply(Data(reply))) }
            reply.append(byte)
        }
    }

    /// Opens the command connection, then the feedback one; starts the feedback reader.
    private func connect() -> ModHostError? {
        guard let command = Self.open(host: host, port: commandPort) else {
            return ModHostError(kind: .unavailable, message: "mod-host is not listening on \(host):\(commandPort)")
        }
        guard let feedback = Self.open(host: host, port: feedbackPort) else {
            Glibc.close(command)
            return ModHostError(kind: .unavailable, message: "mod-host's feedback port \(feedbackPort) refused")
        }
        state.withLock {
            $0.command = command
            $0.feedback = feedback
        }
        Thread { [self] in readFeedback(feedback) }.start()
        return nil
    }

    private func readFeedback(_ fd: Int32) {
        var framer = NULFramer()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            guard let messages = try? framer.append(Data(buffer[..<count])) else { break }
            for message in messages {
                let text = String(decoding: message, as: UTF8.self)
                if text == "data_finish" {
                    // mod-host holds further feedback until told the batch was read.
                    Task { [weak self] in _ = try? await self?.send(try ModHostCommand("output_data_ready", [])) }
                } else {
                    feedbackInput.yield(text)
                }
            }
        }
        state.withLock { connection in
            if connection.feedback == fd { connection.feedback = -1 }
            Glibc.close(fd)
        }
    }

    private static func open(host: String, port: Int) -> Int32? {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            Glibc.close(fd)
            return nil
        }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    // MARK: - One command at a time

    private func acquireTurn() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = turn.withLock { busy in
                if busy {
                    waiting.withLock { $0.append(continuation) }
                    return false
                }
                busy = true
                return true
            }
            if free { continuation.resume() }
        }
    }

    private func releaseTurn() {
        let next = turn.withLock { busy -> CheckedContinuation<Void, Never>? in
            let next = waiting.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            if next == nil { busy = false }
            return next
        }
        next?.resume()
    }
}
