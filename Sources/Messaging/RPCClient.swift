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
/// Calls from any task go out at once on a DEALER socket that a dedicated thread owns, many in
/// flight together, so no caller blocks Swift's cooperative pool or waits for another's reply. A
/// peer that stays silent past a call's timeout costs the socket, and the next try opens a new one
/// (Lazy Pirate, see ``LazyPirate``).
public final class RPCClient: Sendable {
    public let configuration: RPCClientConfiguration
    private let thread: SocketThread<RPCClientLoop.Command>
    private let nextID = Counter()

    /// Its socket is served by `thread` (one of its own when nil): a caller on that thread sends and is
    /// answered without changing threads.
    public init(_ configuration: RPCClientConfiguration, on thread: LoopThread? = nil) {
        self.configuration = configuration
        self.thread = SocketThread.launch(name: "rpc-client \(configuration.endpoint)", on: thread) { mailbox in
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

/// The DEALER socket's thread: many calls in flight at once, each driven by its own ``LazyPirate``.
///
/// Each request goes out as `[id, "", body]`: a REP or ROUTER server hands the frames before the
/// empty one back ahead of its reply, so the id matches the reply to its call whatever order replies
/// come in, and a late reply to a call already given up is recognised and dropped. The server side
/// needs nothing new: this is the envelope a REQ socket writes, with one more routing frame.
///
/// A try that times out while the socket heard nothing since the try was sent means the peer is
/// gone or wedged: the socket is discarded (with it any request still queued for a peer that may come
/// back, so nothing stale is delivered later) and every call waiting on it counts as timed out. A
/// try that times out while other replies keep arriving is retried or failed alone.
final class RPCClientLoop: SocketLoop {
    typealias Reply = CheckedContinuation<Result<Data, RPCError>, Never>

    enum Command: Sendable {
        case call(id: UInt64, request: Data, reply: Reply)
        case cancel(id: UInt64)
        case stop
    }

    private struct Call {
        let request: Data
        let reply: Reply
        var machine: LazyPirate
        var deadline: ContinuousClock.Instant
        var awaitingReply: Bool
        /// When the try in flight was sent, to tell a silent socket from a slow call.
        var sentAt: ContinuousClock.Instant
    }

    private let configuration: RPCClientConfiguration
    private(set) var socket: ZMQSocket?
    private var calls: [UInt64: Call] = [:]
    private var cancelledEarly: Set<UInt64> = []
    /// When the current socket last received anything.
    private var heardAt: ContinuousClock.Instant?
    private static let cancelled = RPCError(.shutdown, "Call cancelled")
    private let clock = ContinuousClock()

    init(configuration: RPCClientConfiguration) {
        self.configuration = configuration
    }

    var nextTimeout: Duration? {
        guard let earliest = calls.values.lazy.map(\.deadline).min() else { return nil }
        return max(.zero, earliest - clock.now)
    }

    func handle(_ commands: [Command]) -> Bool {
        for (index, command) in commands.enumerated() {
            switch command {
            case .call(let id, let request, let reply):
                if cancelledEarly.remove(id) != nil {
                    reply.resume(returning: .failure(Self.cancelled))
                    continue
                }
                var machine = LazyPirate(timeout: configuration.timeout, policy: configuration.retry)
                let action = machine.begin()
                calls[id] = Call(
                    request: request,
                    reply: reply,
                    machine: machine,
                    deadline: clock.now,
                    awaitingReply: false,
                    sentAt: clock.now
                )
                perform(action, for: id)
            case .cancel(let id):
                if let call = calls.removeValue(forKey: id) {
                    // A reply still on its way is dropped when it comes: its id is no longer known.
                    call.reply.resume(returning: .failure(Self.cancelled))
                } else {
                    // A task cancelled before it called posts its cancellation ahead of its call.
                    cancelledEarly.insert(id)
                }
            case .stop:
                // Calls posted after the stop in the same batch are answered too: dropping one would
                // leave its caller suspended for ever. Calls in flight are failed by close().
                abandon(Array(commands[(index + 1)...]))
                return false
            }
        }
        return true
    }

    func socketReadable() throws(ZMQError) {
        guard let socket else { return }
        while let frames = try socket.receive(dontWait: true) {
            heardAt = clock.now
            // `[id, "", body]`; a reply without our id (or to a call given up) is dropped.
            guard frames.count >= 3, frames[0].count == 8, let body = frames.last else { continue }
            let id = frames[0].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard var call = calls[id], call.awaitingReply else { continue }
            _ = call.machine.replyReceived()
            calls[id] = nil
            call.reply.resume(returning: .success(body))
        }
    }

    func deadlinePassed() {
        let now = clock.now
        let due = calls.filter { $0.value.deadline <= now }.keys.sorted()
        for id in due {
            guard let call = calls[id], call.deadline <= now else { continue }
            if call.awaitingReply, heardAt.map({ $0 < call.sentAt }) ?? true {
                discardSocket()
            } else {
                advance(id, timedOut: call.awaitingReply)
            }
        }
    }

    /// Fails every call, however the loop ended (a stop, or a context gone).
    func close() {
        discardSocket(failing: RPCError(.shutdown, "Client shut down"))
    }

    func abandon(_ commands: [Command]) {
        for case .call(_, _, let reply) in commands {
            reply.resume(returning: .failure(RPCError(.shutdown, "Client shut down")))
        }
    }

    /// Moves a call's machine on after its deadline: a timeout, or the end of a pause between tries.
    private func advance(_ id: UInt64, timedOut: Bool) {
        guard var call = calls[id] else { return }
        let action = timedOut ? call.machine.timedOut() : call.machine.retryDelayElapsed()
        calls[id] = call
        perform(action, for: id)
    }

    private func perform(_ action: LazyPirate.Action, for id: UInt64) {
        guard var call = calls[id] else { return }
        switch action {
        case .send(let wait):
            do {
                let socket = try openSocket()
                var frame = Data(count: 8)
                frame.withUnsafeMutableBytes { $0.storeBytes(of: id.littleEndian, as: UInt64.self) }
                guard try socket.send([frame, Data(), call.request], dontWait: true) else {
                    throw ZMQError(operation: "send", errno: EAGAIN, message: "queue full")
                }
            } catch {
                finish(id, .failure(RPCError(.transportError, "\(error)", underlying: error)))
                return
            }
            call.sentAt = clock.now
            call.deadline = call.sentAt + wait
            call.awaitingReply = true
        case .pause(let delay):
            call.deadline = clock.now + delay
            call.awaitingReply = false
        case .fail(let error):
            finish(id, .failure(error))
            return
        case .deliver:
            return
        }
        calls[id] = call
    }

    private func openSocket() throws(ZMQError) -> ZMQSocket {
        if let socket { return socket }
        let fresh = try ZMQSocket(.dealer)
        try fresh.set(.maxMessageSize(Int64(configuration.maxReplyBytes)))
        try fresh.connect(configuration.endpoint)
        socket = fresh
        heardAt = nil
        return fresh
    }

    /// Closes the socket; the calls waiting on it are timed out (retried on a fresh socket or failed),
    /// or failed with `failure` when given.
    private func discardSocket(failing failure: RPCError? = nil) {
        socket?.close()
        socket = nil
        heardAt = nil
        for id in calls.keys.sorted() {
            guard let call = calls[id] else { continue }
            if let failure {
                finish(id, .failure(failure))
            } else if call.awaitingReply {
                advance(id, timedOut: true)
            }
        }
    }

    private func finish(_ id: UInt64, _ outcome: Result<Data, RPCError>) {
        calls.removeValue(forKey: id)?.reply.resume(returning: outcome)
    }
}
