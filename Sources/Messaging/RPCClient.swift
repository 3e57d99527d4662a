public import Foundation
import Locking

/// Where and how an ``RPCClient`` calls.
public struct RPCClientConfiguration: Sendable {
    public var endpoint: String
    /// How long each try waits for its reply.
    public var timeout: Duration = .seconds(5)
    public var retry = RetryPolicy()
    /// Written as `source_service` in envelopes.
    public var sourceService = "marlise"
    /// A reply larger than this disconnects the server (libzmq's `MAXMSGSIZE`); the call then times out.
    public var maxReplyBytes: Int = 64 << 20

    public init(endpoint: String, timeout: Duration = .seconds(5), retry: RetryPolicy = RetryPolicy()) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.retry = retry
    }
}

/// A request/reply client that never wedges.
///
/// Calls from any task are queued and sent one at a time on a REQ socket that a dedicated thread
/// owns, so no caller blocks Swift's cooperative pool. A try that gets no reply in time closes its
/// socket and the next try opens a new one (Lazy Pirate, see ``LazyPirate``).
public final class RPCClient: Sendable {
    public let configuration: RPCClientConfiguration
    private let thread: SocketThread<RPCClientLoop.Command>
    private let nextID = Counter()

    public init(_ configuration: RPCClientConfiguration) {
        self.configuration = configuration
        thread = SocketThread.launch(name: "rpc-client \(configuration.endpoint)") { mailbox in
            RPCClientLoop(configuration: configuration)
        }
    }

    deinit { thread.mailbox.post(.stop) }

    /// Sends one raw frame and returns the reply frame. Throws `TIMEOUT` once the retries are spent,
    /// `TRANSPORT_ERROR` if the endpoint is unusable, and `SHUTDOWN` after ``shutdown()`` or when
    /// the calling task is cancelled.
    public func request(_ frame: Data) async throws(RPCError) -> Data {
        let id = nextID.next()
        let outcome: Result<Data, RPCError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if !thread.mailbox.post(.call(id: id, request: frame, reply: continuation)) {
                    continuation.resume(returning: .failure(RPCError(.shutdown, "Client shut down")))
                }
            }
        } onCancel: {
            thread.mailbox.post(.cancel(id: id))
        }
        return try outcome.get()
    }

    /// Calls `method` in the Marlise envelope and returns its `result`; an envelope-level error reply
    /// is thrown as an ``RPCError`` with the server's code.
    public func call(_ method: String, params: [String: JSONValue] = [:]) async throws(RPCError) -> JSONValue {
        var envelope = RequestEnvelope(method: method, params: params)
        envelope.sourceService = configuration.sourceService
        let reply = try ReplyEnvelope.decode(try await request(envelope.encoded()))
        return try reply.outcome.get()
    }

    /// Fails every pending call with `SHUTDOWN` and closes the socket.
    public func shutdown() async {
        thread.mailbox.post(.stop)
        await thread.join()
    }
}

/// Request ids for matching cancellations to calls.
private final class Counter: Sendable {
    private let value = Locked<UInt64>(0)
    func next() -> UInt64 {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}

/// The REQ socket's thread: one call at a time, each driven by a ``LazyPirate``.
final class RPCClientLoop: SocketLoop {
    typealias Reply = CheckedContinuation<Result<Data, RPCError>, Never>

    enum Command: Sendable {
        case call(id: UInt64, request: Data, reply: Reply)
        case cancel(id: UInt64)
        case stop
    }

    private struct Call {
        let id: UInt64
        let request: Data
        let reply: Reply
    }

    private struct Current {
        let call: Call
        var machine: LazyPirate
        var deadline: ContinuousClock.Instant
        var awaitingReply: Bool
    }

    private let configuration: RPCClientConfiguration
    private(set) var socket: ZMQSocket?
    private var queue: [Call] = []
    private var current: Current?
    private var cancelledEarly: Set<UInt64> = []
    private static let cancelled = RPCError(.shutdown, "Call cancelled")
    private let clock = ContinuousClock()

    init(configuration: RPCClientConfiguration) {
        self.configuration = configuration
    }

    var nextTimeout: Duration? {
        current.map { max(.zero, $0.deadline - clock.now) }
    }

    func handle(_ commands: [Command]) -> Bool {
        for (index, command) in commands.enumerated() {
            switch command {
            case .call(let id, let request, let reply):
                if cancelledEarly.remove(id) != nil {
                    reply.resume(returning: .failure(Self.cancelled))
                } else {
                    queue.append(Call(id: id, request: request, reply: reply))
                }
            case .cancel(let id):
                if let index = queue.firstIndex(where: { $0.id == id }) {
                    queue.remove(at: index).reply.resume(returning: .failure(Self.cancelled))
                } else if current?.call.id == id {
                    discardSocket()
                    finish(.failure(Self.cancelled))
                } else {
                    // A task cancelled before it called posts its cancellation ahead of its call.
                    cancelledEarly.insert(id)
                }
            case .stop:
                // Calls posted after the stop in the same batch are answered too: dropping one would
                // leave its caller suspended for ever. The current and queued calls are failed by close().
                abandon(Array(commands[(index + 1)...]))
                return false
            }
        }
        startNextIfIdle()
        return true
    }

    func socketReadable() throws(ZMQError) {
        guard let socket, let frames = try socket.receive(dontWait: true) else { return }
        guard var running = current, running.awaitingReply else { return }
        _ = running.machine.replyReceived()
        current = running
        // Replies are single frames; a multipart reply is delivered as its last frame.
        finish(.success(frames.last ?? Data()))
        startNextIfIdle()
    }

    func deadlinePassed() {
        guard var running = current, clock.now >= running.deadline else { return }
        let action: LazyPirate.Action
        if running.awaitingReply {
            discardSocket()
            action = running.machine.timedOut()
        } else {
            action = running.machine.retryDelayElapsed()
        }
        current = running
        perform(action)
        startNextIfIdle()
    }

    /// Fails the current and queued calls, however the loop ended (a stop, or a context gone).
    func close() {
        discardSocket()
        let error = RPCError(.shutdown, "Client shut down")
        if current != nil { finish(.failure(error)) }
        for call in queue { call.reply.resume(returning: .failure(error)) }
        queue.removeAll()
    }

    func abandon(_ commands: [Command]) {
        for case .call(_, _, let reply) in commands {
            reply.resume(returning: .failure(RPCError(.shutdown, "Client shut down")))
        }
    }

    private func startNextIfIdle() {
        guard current == nil, !queue.isEmpty else { return }
        let call = queue.removeFirst()
        var machine = LazyPirate(timeout: configuration.timeout, policy: configuration.retry)
        let action = machine.begin()
        current = Current(call: call, machine: machine, deadline: clock.now, awaitingReply: false)
        perform(action)
    }

    private func perform(_ action: LazyPirate.Action) {
        guard var running = current else { return }
        switch action {
        case .send(let wait):
            do {
                let socket = try openSocket()
                try socket.send([running.call.request], dontWait: true)
            } catch {
                discardSocket()
                finish(.failure(RPCError(.transportError, "\(error)", underlying: error)))
                return
            }
            running.deadline = clock.now + wait
            running.awaitingReply = true
        case .pause(let delay):
            running.deadline = clock.now + delay
            running.awaitingReply = false
        case .fail(let error):
            finish(.failure(error))
            return
        case .deliver:
            return
        }
        current = running
    }

    private func openSocket() throws(ZMQError) -> ZMQSocket {
        if let socket { return socket }
        let fresh = try ZMQSocket(.req)
        try fresh.set(.maxMessageSize(Int64(configuration.maxReplyBytes)))
        try fresh.connect(configuration.endpoint)
        socket = fresh
        return fresh
    }

    private func discardSocket() {
        socket?.close()
        socket = nil
    }

    private func finish(_ outcome: Result<Data, RPCError>) {
        current?.call.reply.resume(returning: outcome)
        current = nil
    }
}
