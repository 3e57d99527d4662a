import CLinux
import Dispatch
import Foundation
import Locking
import Messaging
public import ModHostWire
import Posix

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
    /// The framing error behind a garbled reply, kept for the log; not compared.
    public var underlying: (any Error)? = nil
    public var description: String { message }

    /// Equal when they say the same: kind and message.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.kind == rhs.kind && lhs.message == rhs.message }
}

/// One persistent connection pair to mod-host: the command socket and the feedback socket, opened
/// together (mod-host accepts the feedback connection before it reads any command) and closed
/// command-first (closing only the feedback side wedges mod-host at 100 % CPU, docs/protocols/mod-host.md, item 1).
///
/// Commands are sent one at a time, each whole and NUL-terminated in one write, and each reply is
/// read up to its NUL. Feedback messages are delivered in ``feedback``; after every `data_finish`
/// the client sends `output_data_ready`, so mod-host keeps sending.
///
/// - Important: The sockets are blocking and used from a serial queue and a reader thread of their
///   own, never from the cooperative pool.
public final class ModHostClient: Sendable {
    /// A change of the connection, tagged with the connection's generation so that a late event of
    /// an old connection is not mistaken for one of the current.
    public enum Event: Sendable, Equatable {
        /// mod-host closed the feedback socket (it does when it exits or drops the client).
        case feedbackLost(generation: Int)
        /// The command connection was closed: by a failed write or read, a timeout or a call.
        case disconnected(generation: Int, reason: String)
    }

    public let host: String
    public let commandPort: Int
    public let feedbackPort: Int
    public let timeout: Duration
    /// When `false`, a command sent while disconnected fails at once instead of connecting: the
    /// bridge connects from its own reconnect loop, so callers never wait on a down host.
    public let connectsOnDemand: Bool
    /// Every feedback message (`output_set …`, `param_set …`, `transport …`), `data_finish` excluded.
    public let feedback: AsyncStream<String>
    /// Connection changes, in order.
    public let events: AsyncStream<Event>
    private let feedbackInput: AsyncStream<String>.Continuation
    private let eventInput: AsyncStream<Event>.Continuation
    private let state = Locked(Connection())
    /// Serialises commands: exactly one in flight on the socket at a time.
    private let queue = DispatchQueue(label: "marlise.mod-host.commands", qos: .userInitiated)

    private struct Connection {
        var command: Int32 = -1
        var feedback: Int32 = -1
        /// Counts connections; events carry it.
        var generation = 0
        /// Set by ``close()``: no command connects again.
        var closed = false
    }

    public init(
        host: String = "127.0.0.1",
        commandPort: Int = 5555,
        feedbackPort: Int = 5556,
        timeout: Duration = .seconds(5),
        connectsOnDemand: Bool = true
    ) {
        self.host = host
        self.commandPort = commandPort
        self.feedbackPort = feedbackPort
        self.timeout = timeout
        self.connectsOnDemand = connectsOnDemand
        (feedback, feedbackInput) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        (events, eventInput) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    deinit {
        // No command is in flight: each holds a reference to the client until it ends.
        state.withLock { connection in
            if connection.command >= 0 { Glibc.close(connection.command) }
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
        }
        feedbackInput.finish()
        eventInput.finish()
    }

    /// Sends `command` and returns mod-host's reply.
    public func send(_ command: ModHostCommand) async throws(ModHostError) -> ModHostReply {
        let outcome: Result<ModHostReply, ModHostError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.exchange(command)) }
        }
        return try outcome.get()
    }

    /// Sends `command` on the calling thread, which blocks until the reply (or the timeout): no
    /// thread hop when no other command is in flight, which is what keeps the bridge at mod-host's
    /// speed. Commands are still serialised with ``send(_:)``'s.
    ///
    /// - Important: Blocks; call it from a thread that may block (a socket's own thread), never
    ///   from the cooperative pool.
    public func sendBlocking(_ command: ModHostCommand) throws(ModHostError) -> ModHostReply {
        try queue.sync { exchange(command) }.get()
    }

    /// Connects unless connected; returns the connection's generation.
    @discardableResult
    public func connect() async throws(ModHostError) -> Int {
        let outcome: Result<Int, ModHostError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.connectIfNeeded()) }
        }
        return try outcome.get()
    }

    /// Closes the pair, command first; a later ``connect()`` opens a new one.
    public func disconnect(reason: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.dropConnection(reason: reason)
                continuation.resume()
            }
        }
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

    public var isConnected: Bool { state.withLock { $0.command >= 0 } }

    /// The current connection's generation (0 before the first).
    public var generation: Int { state.withLock { $0.generation } }

    // MARK: - On the command queue

    private func exchange(_ command: ModHostCommand) -> Result<ModHostReply, ModHostError> {
        if state.withLock({ $0.closed }) { return .failure(ModHostError(kind: .unavailable, message: "client closed")) }
        if !isConnected {
            guard connectsOnDemand else {
                return .failure(ModHostError(kind: .unavailable, message: "not connected to mod-host"))
            }
            if case .failure(let failure) = connectIfNeeded() { return .failure(failure) }
        }
        let fd = state.withLock { $0.command }
        let bytes = [UInt8](command.wire)
        let written = retryingOnInterrupt {
            bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        guard written == bytes.count else {
            dropConnection(reason: "mod-host closed the connection")
            return .failure(ModHostError(kind: .unavailable, message: "mod-host closed the connection"))
        }
        // One command is in flight at a time and mod-host answers each with one NUL-terminated
        // reply, so whatever arrives up to the NUL is this command's reply.
        var framer = NULFramer()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = retryingOnInterrupt { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                dropConnection(reason: "no reply to '\(command)' within \(timeout.readable)")
                return .failure(
                    ModHostError(kind: .timeout, message: "no reply to '\(command)' within \(timeout.readable)")
                )
            }
            if count <= 0 {
                dropConnection(reason: "mod-host closed the connection")
                return .failure(ModHostError(kind: .unavailable, message: "mod-host closed the connection"))
            }
            framer.append(buffer[..<count])
            do {
                if let reply = try framer.next() { return .success(ModHostReply(reply)) }
            } catch {
                dropConnection(reason: "reply: \(error)")
                return .failure(ModHostError(kind: .unavailable, message: "reply: \(error)", underlying: error))
            }
        }
    }

    /// Opens the command connection, then the feedback one; starts the feedback reader.
    private func connectIfNeeded() -> Result<Int, ModHostError> {
        if let current = state.withLock({ $0.command >= 0 ? $0.generation : nil }) { return .success(current) }
        if state.withLock({ $0.closed }) { return .failure(ModHostError(kind: .unavailable, message: "client closed")) }
        guard let command = Self.open(host: host, port: commandPort, timeout: timeout) else {
            return .failure(
                ModHostError(kind: .unavailable, message: "mod-host is not listening on \(host):\(commandPort)")
            )
        }
        guard let feedback = Self.open(host: host, port: feedbackPort, timeout: nil) else {
            Glibc.close(command)
            return .failure(
                ModHostError(kind: .unavailable, message: "mod-host's feedback port \(feedbackPort) refused")
            )
        }
        let generation = state.withLock { connection in
            connection.command = command
            connection.feedback = feedback
            connection.generation += 1
            return connection.generation
        }
        let thread = Thread { [self] in readFeedback(feedback, generation: generation) }
        thread.name = "mod-host feedback"
        thread.start()
        return .success(generation)
    }

    /// Closes both sockets, command first. Only the command queue calls this.
    private func dropConnection(reason: String) {
        let generation = state.withLock { connection -> Int? in
            guard connection.command >= 0 else { return nil }
            Glibc.close(connection.command)
            // The feedback reader owns that descriptor: it closes it once woken.
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
            connection.command = -1
            connection.feedback = -1
            return connection.generation
        }
        if let generation { eventInput.yield(.disconnected(generation: generation, reason: reason)) }
    }

    // MARK: - On the feedback thread

    private func readFeedback(_ fd: Int32, generation: Int, reopens: Int = 0) {
        var framer = NULFramer()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = retryingOnInterrupt { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if count <= 0 { break }
            guard let messages = try? framer.messages(after: buffer[..<count]) else { break }
            for message in messages {
                let text = String(decoding: message, as: UTF8.self)
                if text == "data_finish" {
                    // mod-host holds further feedback until told the batch was read.
                    queue.async { [self] in
                        guard self.generation == generation, self.isConnected,
                            let ready = try? ModHostCommand("output_data_ready", [])
                        else { return }
                        _ = exchange(ready)
                    }
                } else {
                    feedbackInput.yield(text)
                }
            }
        }
        // Still the current connection: mod-host closed it, not us.
        let lost = state.withLock { connection in
            let current = connection.feedback == fd
            if current { connection.feedback = -1 }
            Glibc.close(fd)
            return current
        }
        guard lost else { return }
        if reopens < Self.feedbackReopens, commandSocketStaysOpen(), let fresh = reopenFeedback(generation) {
            readFeedback(fresh, generation: generation, reopens: reopens + 1)
            return
        }
        eventInput.yield(.feedbackLost(generation: generation))
    }

    /// How often a feedback socket is reopened for one command connection before giving up.
    static let feedbackReopens = 3

    /// Whether the command socket is still open a moment after the feedback socket closed.
    ///
    /// mod-host closes the feedback socket when it exits (the command socket closes with it), or
    /// when it paired our feedback connection with a stale command connection ahead of ours in its
    /// backlog (a readiness probe's): it then closes that pair and waits, holding our command
    /// connection, for a feedback connection — which only a new one of ours can give it.
    private func commandSocketStaysOpen() -> Bool {
        // A duplicate, so the number stays ours even if the command queue closes the original.
        let probe = state.withLock { $0.command >= 0 ? dup($0.command) : -1 }
        guard probe >= 0 else { return false }
        defer { Glibc.close(probe) }
        // Only the peer's closing of its side is asked for: no data is waited on.
        var entry = pollfd(fd: probe, events: MARLISE_POLLRDHUP, revents: 0)
        return retryingOnInterrupt { poll(&entry, 1, 50) } == 0
    }

    /// Opens a new feedback connection for the current command connection, if it is still `generation`.
    private func reopenFeedback(_ generation: Int) -> Int32? {
        guard let fresh = Self.open(host: host, port: feedbackPort, timeout: nil) else { return nil }
        let installed = state.withLock { connection in
            guard connection.generation == generation, connection.command >= 0, connection.feedback < 0 else {
                return false
            }
            connection.feedback = fresh
            return true
        }
        if !installed { Glibc.close(fresh) }
        return installed ? fresh : nil
    }

    private static func open(host: String, port: Int, timeout: Duration?) -> Int32? {
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
        var set = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
        if let timeout {
            // Each read of a reply waits at most this long; a reply that does not come drops the pair.
            let (seconds, attoseconds) = timeout.components
            var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            set = set && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) == 0
        }
        guard set else {
            Glibc.close(fd)
            return nil
        }
        return fd
    }
}
