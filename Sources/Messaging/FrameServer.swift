public import Foundation
public import Logging

/// Answers single-frame requests on a ROUTER socket with whatever bytes a handler returns.
///
/// For services whose wire format is not the Marlise envelope (the bridge answers the C++
/// modhost-bridge's own JSON shapes): the server only routes frames, the handler owns the format.
/// Like ``RPCServer`` it is wire-compatible with REQ clients and every request gets exactly one
/// reply. A handler answers quick requests on the socket's thread, with no thread hop (what keeps a
/// bridge at its backend's speed), and hands slow ones to a task, so they never delay another.
public final class FrameServer: Sendable {
    /// What a request held: one frame, or something a REQ client never sends.
    public enum Request: Sendable {
        case frame(Data)
        /// Zero or several body frames, or one larger than the limit: refused by the handler.
        case malformed(String)
        /// More requests are waiting on tasks than the server allows: refused by the handler.
        case busy
    }

    /// A reply computed on the socket's thread, or work that must wait for something.
    public enum Reply: Sendable {
        /// Sent at once, from the socket's thread: no thread hop at all; `then` runs right after the
        /// send (work the requester need not wait for, such as publishing an event).
        case now(Data, then: (@Sendable () -> Void)? = nil)
        /// Run as a task; its result is sent when it is done, without delaying other requests.
        case later(@Sendable () async -> Data)
        /// Started on the socket's thread, answered later from any thread through the responder,
        /// exactly once: work that waits on something other than a task (a reply on a socket).
        case deferred(@Sendable (_ respond: @escaping Responder) -> Void)
    }

    /// Sends a deferred reply, from any thread; `then` runs on the socket's thread after the send.
    public typealias Responder = @Sendable (_ reply: Data, _ then: (@Sendable () -> Void)?) -> Void

    /// Answers one request, on the socket's thread: at once, or with work for later.
    ///
    /// - Important: It runs on the socket's thread, so whatever it does before returning delays
    ///   every other request of this server; it returns `.later` for anything that may wait long.
    public typealias Handler = @Sendable (Request) -> Reply

    /// The bound endpoint, wildcard port resolved.
    public let endpoint: String
    /// The PUB socket's bound endpoint, when the server owns one.
    public let publishEndpoint: String?
    private let thread: SocketThread<FrameServerLoop.Command>

    private init(endpoint: String, publishEndpoint: String?, thread: SocketThread<FrameServerLoop.Command>) {
        self.endpoint = endpoint
        self.publishEndpoint = publishEndpoint
        self.thread = thread
    }

    /// Binds `endpoint` and starts serving; throws if it cannot be bound.
    ///
    /// - Parameters:
    ///   - maxRequestBytes: a larger frame is handed to the handler as `.malformed`, unread.
    ///   - maxInFlight: while this many replies are being computed by tasks, requests are handed
    ///     to the handler as `.busy`.
    ///   - publishEndpoint: where to bind a PUB socket owned by the same thread, for ``publish(frames:)``:
    ///     an event published while a request is handled then costs no thread wake-up at all.
    ///   - thread: where the sockets are served (a thread of their own when nil): shared with what
    ///     answers deferred replies, a reply is sent without a thread hop.
    public static func start(
        endpoint: String,
        publishEndpoint: String? = nil,
        maxRequestBytes: Int = 16 << 20,
        maxInFlight: Int = 1024,
        logger: Logger = Logger(label: "marlise.frame-server"),
        on thread: LoopThread? = nil,
        handler: @escaping Handler
    ) async throws(ZMQError) -> FrameServer {
        let (thread, bound) = try await SocketThread<FrameServerLoop.Command>.start(
            name: "frame-server \(endpoint)",
            on: thread,
            makeLoop: { mailbox throws(ZMQError) in
                try FrameServerLoop(
                    endpoint: endpoint,
                    publishEndpoint: publishEndpoint,
                    maxRequestBytes: maxRequestBytes,
                    maxInFlight: maxInFlight,
                    handler: handler,
                    mailbox: mailbox,
                    logger: logger
                )
            },
            describe: { loop throws(ZMQError) in
                (try loop.boundSocket.lastEndpoint(), try loop.publisher?.lastEndpoint())
            }
        )
        return FrameServer(endpoint: bound.0, publishEndpoint: bound.1, thread: thread)
    }

    /// Publishes a message on the server's PUB socket (first frame: the topic), from any thread.
    /// A PUB drops what a slow subscriber cannot take rather than wait. Nothing happens when the
    /// server was started without `publishEndpoint`.
    public func publish(frames: [Data]) {
        guard !frames.isEmpty else { return }
        thread.mailbox.post(.publish(frames))
    }

    /// Stops serving and closes the socket; replies still being computed are dropped.
    public func shutdown() async {
        thread.mailbox.post(.stop)
        await thread.join()
    }
}

/// The ROUTER socket's thread: hands frames to handler tasks and sends their replies back.
final class FrameServerLoop: SocketLoop {
    enum Command: Sendable {
        case reply(route: [Data], body: Data, then: (@Sendable () -> Void)? = nil)
        case publish([Data])
        case stop
    }

    let boundSocket: ZMQSocket
    let publisher: ZMQSocket?
    var socket: ZMQSocket? { boundSocket }
    private let maxRequestBytes: Int
    private let maxInFlight: Int
    private var inFlight = 0
    private let handler: FrameServer.Handler
    private let mailbox: Mailbox<Command>
    private let logger: Logger

    init(
        endpoint: String,
        publishEndpoint: String?,
        maxRequestBytes: Int,
        maxInFlight: Int,
        handler: @escaping FrameServer.Handler,
        mailbox: Mailbox<Command>,
        logger: Logger
    ) throws(ZMQError) {
        boundSocket = try ZMQSocket(.router)
        // A peer announcing a frame far past the limit is cut off before anything is allocated.
        try boundSocket.set(.maxMessageSize(Int64(max(maxRequestBytes, 1 << 20)) * 4))
        try boundSocket.bind(endpoint)
        if let publishEndpoint {
            let publisher = try ZMQSocket(.pub)
            try publisher.bind(publishEndpoint)
            self.publisher = publisher
        } else {
            publisher = nil
        }
        self.maxRequestBytes = maxRequestBytes
        self.maxInFlight = maxInFlight
        self.handler = handler
        self.mailbox = mailbox
        self.logger = logger
    }

    func socketReadable() throws(ZMQError) {
        while let frames = try boundSocket.receive(dontWait: true) { accept(frames) }
    }

    func handle(_ commands: [Command]) -> Bool {
        for command in commands {
            switch command {
            case .reply(let route, let body, let then):
                inFlight -= 1
                send(route: route, body: body)
                then?()
            case .publish(let frames): _ = try? publisher?.send(frames, dontWait: true)
            case .stop: return false
            }
        }
        return true
    }

    func close() {
        boundSocket.close()
        publisher?.close()
    }

    private func accept(_ frames: [Data]) {
        let (route, body) = RouterEnvelope.split(frames)
        let request: FrameServer.Request
        if body.count != 1 {
            request = .malformed("a request is one frame, not \(body.count)")
        } else if inFlight >= maxInFlight {
            request = .busy
        } else if let frame = body.first, frame.count <= maxRequestBytes {
            request = .frame(frame)
        } else {
            request = .malformed("request larger than \(maxRequestBytes) bytes")
        }
        switch handler(request) {
        case .now(let reply, let then):
            send(route: route, body: reply)
            then?()
        case .later(let work):
            inFlight += 1
            Task { [mailbox] in mailbox.post(.reply(route: route, body: await work())) }
        case .deferred(let start):
            inFlight += 1
            start { [mailbox] reply, then in mailbox.post(.reply(route: route, body: reply, then: then)) }
        }
    }

    /// A ROUTER drops what it cannot route (the peer left) instead of blocking.
    private func send(route: [Data], body: Data) {
        do {
            try boundSocket.send(route + [body], dontWait: true)
        } catch {
            logger.warning("reply not sent", metadata: ["error": "\(error)"])
        }
    }
}
