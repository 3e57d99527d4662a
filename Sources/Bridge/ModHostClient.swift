import CLinux
import Dispatch
import Foundation
import Locking
public import Messaging
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
/// Commands are pipelined: each is written whole and NUL-terminated in one write as soon as it is
/// sent, without waiting for the replies to those before it, and the connection's reply reader (a
/// loop on ``replyThread``, the bridge's request thread) hands each reply to the oldest command still waiting (mod-host answers in order, one reply per
/// command). What is written but unanswered stays under ``pipelineBytes`` (mod-host reads into a
/// 1,024-byte buffer); commands beyond it wait their turn here. Feedback messages are delivered in
/// ``feedback``; after every `data_finish` the client sends `output_data_ready`, so mod-host keeps
/// sending.
///
/// - Important: The sockets are blocking: the command socket is read only when its poll says so (by the
///   reply reader), the feedback socket by a thread of its own, and senders write each once, briefly;
///   neither is waited on from the cooperative pool.
public final class ModHostClient: Sendable {
    /// A change of the connection, tagged with the connection's generation so that a late event of
    /// an old connection is not mistaken for one of the current.
    public enum Event: Sendable, Equatable {
        /// mod-host closed the feedback socket (it does when it exits or drops the client).
        case feedbackLost(generation: Int)
        /// The command connection was closed: by a failed write or read, a timeout or a call.
        case disconnected(generation: Int, reason: String)
    }

    /// What a command's sender is told, once, from whichever thread has the answer.
    public typealias Completion = @Sendable (Result<ModHostReply, ModHostError>) -> Void

    /// Unanswered bytes allowed on the wire: below mod-host's read buffer, so one read of its never
    /// ends inside a command.
    public static let pipelineBytes = 960

    public let host: String
    public let commandPort: Int
    public let feedbackPort: Int
    public let timeout: Duration
    /// When `false`, a command sent while disconnected fails at once instead of connecting: the
    /// bridge connects from its own reconnect loop, so callers never wait on a down host.
    public let connectsOnDemand: Bool
    /// Where each connection's replies are read (a thread of the connection's own when nil): the
    /// bridge's request thread, so a reply is answered without a thread hop.
    private let replyThread: LoopThread?
    /// Every feedback message (`output_set …`, `param_set …`, `transport …`), `data_finish` excluded.
    public let feedback: AsyncStream<String>
    /// Connection changes, in order.
    public let events: AsyncStream<Event>
    private let feedbackInput: AsyncStream<String>.Continuation
    private let eventInput: AsyncStream<Event>.Continuation
    fileprivate let state = Locked(Connection())
    /// Serialises connecting and disconnecting.
    private let queue = DispatchQueue(label: "marlise.mod-host.connection", qos: .userInitiated)

    fileprivate struct Pending {
        let wire: [UInt8]
        let text: String
        let done: Completion
        var deadline: ContinuousClock.Instant = .now
    }

    fileprivate struct Connection {
        var command: Int32 = -1
        var feedback: Int32 = -1
        /// Counts connections; events carry it.
        var generation = 0
        /// Set by ``close()``: no command connects again.
        var closed = false
        /// Written and unanswered, oldest first; their bytes; and those waiting for room.
        var written: [Pending] = []
        var writtenBytes = 0
        var waiting: [Pending] = []
        /// The current connection's reply reader, kept while it runs.
        var reader: SocketThread<ReplyReader.Command>?
    }

    public init(
        host: String = "127.0.0.1",
        commandPort: Int = 5555,
        feedbackPort: Int = 5556,
        timeout: Duration = .seconds(5),
        connectsOnDemand: Bool = true,
        replyThread: LoopThread? = nil
    ) {
        self.replyThread = replyThread
        self.host = host
        self.commandPort = commandPort
        self.feedbackPort = feedbackPort
        self.timeout = timeout
        self.connectsOnDemand = connectsOnDemand
        (feedback, feedbackInput) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        (events, eventInput) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    deinit {
        // The readers hold the client while they run: none is left, nor is any command.
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
            submit(command) { continuation.resume(returning: $0) }
        }
        return try outcome.get()
    }

    /// Sends `command` at once (or as soon as the pipeline has room) and calls `done` with its reply,
    /// on the reader's thread or, when it fails before anything is written, on this one.
    public func submit(_ command: ModHostCommand, done: @escaping Completion) {
        if state.withLock({ $0.command < 0 && !$0.closed }) && connectsOnDemand {
            if case .failure(let failure) = queue.sync(execute: { connectIfNeeded() }) {
                done(.failure(failure))
                return
            }
        }
        let pending = Pending(wire: [UInt8](command.wire), text: "\(command)", done: done)
        let refused: ModHostError? = state.withLock { connection in
            if connection.closed { return ModHostError(kind: .unavailable, message: "client closed") }
            guard connection.command >= 0 else {
                return ModHostError(kind: .unavailable, message: "not connected to mod-host")
            }
            connection.waiting.append(pending)
            return nil
        }
        if let refused {
            done(.failure(refused))
            return
        }
        writeWaiting()
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

    /// Closes the connection for good; later commands fail as `unavailable`. Commands in flight are
    /// woken with `unavailable`.
    public func close() {
        state.withLock { connection in
            connection.closed = true
            // Shut down, not closed: the readers own the descriptors and close them once woken
            // (a closed number can be reused at once by any other socket).
            if connection.command >= 0 { shutdown(connection.command, Int32(SHUT_RDWR)) }
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
        }
    }

    public var isConnected: Bool { state.withLock { $0.command >= 0 } }

    /// The current connection's generation (0 before the first).
    public var generation: Int { state.withLock { $0.generation } }

    // MARK: - The command pipeline

    /// Writes waiting commands while the pipeline has room, in order; a failed write drops the pair.
    fileprivate func writeWaiting() {
        let failed: Bool = state.withLock { connection in
            while let next = connection.waiting.first,
                connection.written.isEmpty || connection.writtenBytes + next.wire.count <= Self.pipelineBytes
            {
                connection.waiting.removeFirst()
                let fd = connection.command
                let written = retryingOnInterrupt {
                    next.wire.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                var sent = next
                sent.deadline = .now + timeout
                connection.written.append(sent)
                connection.writtenBytes += next.wire.count
                if written != next.wire.count { return true }
            }
            return false
        }
        if failed { dropConnection(reason: "mod-host closed the connection") }
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
        let reader = SocketThread<ReplyReader.Command>.launch(name: "mod-host replies", on: replyThread) {
            [self] mailbox in ReplyReader(client: self, fd: command, generation: generation, mailbox: mailbox)
        }
        state.withLock { $0.reader = reader }
        let thread = Thread { [self] in readFeedback(feedback, generation: generation) }
        thread.name = "mod-host feedback"
        thread.start()
        return .success(generation)
    }

    /// Closes both sockets, command first, and fails every command still waiting: with `timeout`
    /// the oldest when it is the one that timed out, the rest as `unavailable`. Only the connection
    /// `generation` is dropped, when given (a reader's late word on an old one is not).
    fileprivate func dropConnection(reason: String, generation only: Int? = nil, timedOut: Bool = false) {
        let dropped = state.withLock { connection -> (generation: Int, failing: [Pending])? in
            guard connection.command >= 0, only.map({ $0 == connection.generation }) ?? true else { return nil }
            // Shut down, not closed: the reply reader owns the descriptor and closes it once woken;
            // the feedback reader likewise.
            shutdown(connection.command, Int32(SHUT_RDWR))
            if connection.feedback >= 0 { shutdown(connection.feedback, Int32(SHUT_RDWR)) }
            connection.command = -1
            connection.feedback = -1
            let failing = connection.written + connection.waiting
            connection.written = []
            connection.writtenBytes = 0
            connection.waiting = []
            return (connection.generation, failing)
        }
        guard let dropped else { return }
        for (index, pending) in dropped.failing.enumerated() {
            let kind: ModHostError.Kind = timedOut && index == 0 ? .timeout : .unavailable
            pending.done(.failure(ModHostError(kind: kind, message: reason)))
        }
        eventInput.yield(.disconnected(generation: dropped.generation, reason: reason))
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
                    if self.generation == generation, self.isConnected,
                        let ready = try? ModHostCommand("output_data_ready", [])
                    {
                        submit(ready) { _ in }
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

/// Reads mod-host's replies on a command connection and hands each to the oldest unanswered
/// command, until the connection ends: a loop on the client's reply thread, which is the bridge's
/// request thread, so the reply to a request goes out with no thread hop.
private final class ReplyReader: SocketLoop {
    enum Command: Sendable { case stop }

    let client: ModHostClient
    let fd: Int32
    let generation: Int
    let mailbox: Mailbox<Command>
    private var framer = NULFramer()
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private var reason = "mod-host closed the connection"
    private var timedOut = false
    private var stopping = false

    init(client: ModHostClient, fd: Int32, generation: Int, mailbox: Mailbox<Command>) {
        self.client = client
        self.fd = fd
        self.generation = generation
        self.mailbox = mailbox
    }

    var socket: ZMQSocket? { nil }
    var descriptor: Int32? { stopping ? nil : fd }

    /// Until the oldest unanswered command's deadline; at most 250 ms, so a connection dropped
    /// elsewhere is noticed even when nothing is in flight.
    var nextTimeout: Duration? {
        let deadline = client.state.withLock { $0.generation == generation ? $0.written.first?.deadline : nil }
        return deadline.map { min(max(.zero, $0 - .now), .milliseconds(250)) } ?? .milliseconds(250)
    }

    func socketReadable() throws(ZMQError) {
        guard !stopping else { return }
        let count = retryingOnInterrupt {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
        guard count > 0 else { return stop() }
        let replies: [[UInt8]]
        do {
            replies = try framer.messages(after: buffer[..<count])
        } catch {
            reason = "reply: \(error)"
            return stop()
        }
        for reply in replies {
            let answered = client.state.withLock { connection -> ModHostClient.Pending? in
                guard connection.generation == generation, !connection.written.isEmpty else { return nil }
                let first = connection.written.removeFirst()
                connection.writtenBytes -= first.wire.count
                return first
            }
            // A reply nobody asked for means the pipeline lost its place: start over.
            guard let answered else {
                reason = "mod-host answered a command not sent"
                return stop()
            }
            answered.done(.success(ModHostReply(reply)))
        }
        client.writeWaiting()
    }

    func deadlinePassed() {
        guard !stopping else { return }
        let (deadline, text, current) = client.state.withLock {
            ($0.written.first?.deadline, $0.written.first?.text, $0.generation == generation && $0.command >= 0)
        }
        if !current { return stop() }
        if let deadline, deadline <= .now {
            reason = "no reply to '\(text ?? "a command")' within \(client.timeout.readable)"
            timedOut = true
            stop()
        }
    }

    /// Only ``stop()`` posts: the loop ends.
    func handle(_ commands: [Command]) -> Bool { false }

    /// The connection is over: it is dropped (if it is still the current one) and its descriptor,
    /// which this reader owns, closed.
    func close() {
        client.dropConnection(reason: reason, generation: generation, timedOut: timedOut)
        client.state.withLock { connection in
            if connection.generation == generation { connection.reader = nil }
        }
        Glibc.close(fd)
    }

    private func stop() {
        stopping = true
        mailbox.post(.stop)
    }
}
