import Foundation
public import Logging

/// How an ``RPCServer`` listens.
public struct RPCServerConfiguration: Sendable {
    /// Where to bind; `tcp://127.0.0.1:*` picks a free port (read it back from ``RPCServer/endpoint``).
    public var endpoint: String
    /// A request frame larger than this gets a `MESSAGE_TOO_LARGE` reply.
    public var maxRequestBytes: Int = 16 << 20
    /// A peer that sends a frame larger than this is disconnected unread (libzmq's `MAXMSGSIZE`), so a
    /// claimed 100 MiB frame never gets allocated.
    public var disconnectBytes: Int = 64 << 20
    /// Requests being handled at once; one more gets a `BUSY` reply.
    public var maxInFlight: Int = 1024
    /// Where every request is counted, with the time from its arrival to its reply being posted
    /// (a refused request counts as an error); pass one to read it elsewhere.
    public var statistics = RPCStatistics()

    public init(endpoint: String) { self.endpoint = endpoint }
}

/// Serves the Marlise request/reply protocol on a ROUTER socket.
///
/// A ROUTER is wire-compatible with REQ clients (and DEALERs) and lets requests run concurrently:
/// each request runs its handler in its own task, so a slow handler never delays another. Every
/// request frame gets exactly one reply, whatever it holds, and the server keeps serving.
public final class RPCServer: Sendable {
    /// The bound endpoint, wildcard port resolved.
    public let endpoint: String
    /// Requests, errors and latencies so far (the configuration's ``RPCServerConfiguration/statistics``).
    public let statistics: RPCStatistics
    private let thread: SocketThread<RPCServerLoop.Command>

    private init(endpoint: String, statistics: RPCStatistics, thread: SocketThread<RPCServerLoop.Command>) {
        self.endpoint = endpoint
        self.statistics = statistics
        self.thread = thread
    }

    /// Binds and starts serving; throws if the endpoint cannot be bound.
    ///
    /// With `thread`, the socket is served there and so are the handlers, whole: a handler that calls
    /// an actor or a client hosted on the same thread is answered without a thread hop. Without, the
    /// socket has a thread of its own and handlers go on in Swift's pool after their first suspension.
    public static func start(
        _ configuration: RPCServerConfiguration,
        router: RPCRouter,
        logger: Logger = Logger(label: "marlise.rpc-server"),
        on thread: LoopThread? = nil
    ) async throws(ZMQError) -> RPCServer {
        let (socketThread, endpoint) = try await SocketThread<RPCServerLoop.Command>.start(
            name: "rpc-server \(configuration.endpoint)",
            on: thread,
            makeLoop: { mailbox throws(ZMQError) in
                try RPCServerLoop(
                    configuration: configuration,
                    router: router,
                    mailbox: mailbox,
                    logger: logger,
                    handlersOn: thread
                )
            },
            describe: { loop throws(ZMQError) in try loop.boundSocket.lastEndpoint() }
        )
        return RPCServer(endpoint: endpoint, statistics: configuration.statistics, thread: socketThread)
    }

    /// Stops serving and closes the socket; replies still being computed are dropped.
    ///
    /// - Important: libzmq releases the listening port on its I/O thread a moment after this returns.
    public func shutdown() async {
        thread.mailbox.post(.stop)
        await thread.join()
    }
}

/// The ROUTER socket's thread: routes frames to handler tasks and their replies back.
final class RPCServerLoop: SocketLoop {
    enum Command: Sendable {
        case reply(route: [Data], body: Data)
        case stop
    }

    let boundSocket: ZMQSocket
    var socket: ZMQSocket? { boundSocket }
    private let configuration: RPCServerConfiguration
    private let router: RPCRouter
    private let mailbox: Mailbox<Command>
    private let logger: Logger
    /// Where handlers run after their first suspension; Swift's pool when nil.
    private let handlerThread: LoopThread?
    private var inFlight = 0

    init(
        configuration: RPCServerConfiguration,
        router: RPCRouter,
        mailbox: Mailbox<Command>,
        logger: Logger,
        handlersOn handlerThread: LoopThread? = nil
    ) throws(ZMQError) {
        boundSocket = try ZMQSocket(.router)
        try boundSocket.set(.maxMessageSize(Int64(configuration.disconnectBytes)))
        try boundSocket.bind(configuration.endpoint)
        self.configuration = configuration
        self.router = router
        self.mailbox = mailbox
        self.logger = logger
        self.handlerThread = handlerThread
    }

    func socketReadable() throws(ZMQError) {
        while let frames = try boundSocket.receive(dontWait: true) { accept(frames) }
    }

    func handle(_ commands: [Command]) -> Bool {
        for command in commands {
            switch command {
            case .reply(let route, let body):
                inFlight -= 1
                send(route: route, body: body)
            case .stop:
                return false
            }
        }
        return true
    }

    func close() { boundSocket.close() }

    /// Splits the routing envelope from the request and either refuses it at once or hands it to a task.
    private func accept(_ frames: [Data]) {
        let arrived = ContinuousClock.now
        let (route, body) = RouterEnvelope.split(frames)
        guard body.count == 1, let frame = body.first else {
            refuse(
                route,
                RPCError(.invalidRequest, "A request is one frame, not \(body.count)"),
                requestID: .null,
                arrived
            )
            return
        }
        guard frame.count <= configuration.maxRequestBytes else {
            refuse(
                route,
                RPCError(.messageTooLarge, "Request of \(frame.count) bytes exceeds \(configuration.maxRequestBytes)"),
                requestID: .null,
                arrived
            )
            return
        }
        let request: RequestEnvelope
        switch RequestEnvelope.decode(frame) {
        case .success(let decoded): request = decoded
        case .failure(let failure):
            refuse(route, failure.error, requestID: failure.requestID, arrived)
            return
        }
        guard let handler = router.handler(for: request.method) else {
            refuse(
                route,
                RPCError(.methodNotFound, "Method '\(request.method)' not found"),
                requestID: request.requestID,
                arrived
            )
            return
        }
        guard inFlight < configuration.maxInFlight else {
            refuse(
                route,
                RPCError(.busy, "Too many requests in flight; try again"),
                requestID: request.requestID,
                arrived
            )
            return
        }
        inFlight += 1
        // The handler starts right here, on the socket's thread: one that never waits is answered with
        // no thread hop at all; one that awaits frees the loop, and goes on in the pool, or back on
        // this thread when it is a shared ``LoopThread``.
        Task.immediate(executorPreference: handlerThread) { [mailbox, logger, statistics = configuration.statistics] in
            let outcome: Result<JSONValue, RPCError>
            do {
                outcome = .success(try await handler(request))
            } catch let error as RPCError {
                // The cause stays in this process: the client gets the code and message only.
                if let cause = error.underlying {
                    logger.debug(
                        "handler refused",
                        metadata: ["method": "\(request.method)", "error": "\(error)", "cause": "\(cause)"]
                    )
                }
                outcome = .failure(error)
            } catch {
                logger.error("handler failed", metadata: ["method": "\(request.method)", "error": "\(error)"])
                outcome = .failure(RPCError(.internalError, "\(error)", underlying: error))
            }
            let reply = ReplyEnvelope(requestID: request.requestID, outcome: outcome)
            let body = reply.encoded()
            // Counted before the reply leaves, so a client that has its answer finds it counted.
            statistics.record(ContinuousClock.now - arrived, failed: !outcome.succeeded)
            mailbox.post(.reply(route: route, body: body))
        }
    }

    private func refuse(_ route: [Data], _ error: RPCError, requestID: JSONValue, _ arrived: ContinuousClock.Instant) {
        logger.debug("refused request", metadata: ["code": "\(error.code)", "error": "\(error.message)"])
        let body = ReplyEnvelope(requestID: requestID, outcome: .failure(error)).encoded()
        configuration.statistics.record(ContinuousClock.now - arrived, failed: true)
        send(route: route, body: body)
    }

    /// A ROUTER drops what it cannot route (the peer left) instead of blocking, which is what we want.
    private func send(route: [Data], body: Data) {
        do {
            try boundSocket.send(route + [body], dontWait: true)
        } catch {
            logger.warning("reply not sent", metadata: ["error": "\(error)"])
        }
    }
}

extension Result {
    fileprivate var succeeded: Bool {
        if case .success = self { return true }
        return false
    }
}
