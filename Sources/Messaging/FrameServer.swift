public import Foundation
public import Logging

/// Answers single-frame requests on a ROUTER socket with whatever bytes a handler returns.
///
/// For services whose wire format is not the Marlise envelope (the bridge answers the C++
/// modhost-bridge's own JSON shapes): the server only routes frames, the handler owns the format.
/// Like ``RPCServer`` it is wire-compatible with REQ clients, every request gets exactly one reply,
/// and a slow handler never delays another.
public final class FrameServer: Sendable {
    /// What a request held: one frame, or something a REQ client never sends.
    public enum Request: Sendable {
        case frame(Data)
        /// Zero or several body frames, or one larger than the limit: refused by the handler.
        case malformed(String)
    }

    /// Answers one request with one reply frame.
    public typealias Handler = @Sendable (Request) async -> Data

    /// The bound endpoint, wildcard port resolved.
    public let endpoint: String
    private let thread: SocketThread<FrameServerLoop.Command>

    private init(endpoint: String, thread: SocketThread<FrameServerLoop.Command>) {
        self.endpoint = endpoint
        self.thread = thread
    }

    /// Binds `endpoint` and starts serving; throws if it cannot be bound.
    ///
    /// - Parameter maxRequestBytes: a larger frame is handed to the handler as `.malformed`, unread.
    public static func start(
        endpoint: String,
        maxRequestBytes: Int = 16 << 20,
        logger: Logger = Logger(label: "marlise.frame-server"),
        handler: @escaping Handler
    ) async throws(ZMQError) -> FrameServer {
        let (thread, bound) = try await SocketThread<FrameServerLoop.Command>.start(
            name: "frame-server \(endpoint)",
            makeLoop: { mailbox throws(ZMQError) in
                try FrameServerLoop(
                    endpoint: endpoint,
                    maxRequestBytes: maxRequestBytes,
                    handler: handler,
                    mailbox: mailbox,
                    logger: logger
                )
            },
            describe: { loop throws(ZMQError) in try loop.boundSocket.lastEndpoint() }
        )
        return FrameServer(endpoint: bound, thread: thread)
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
        case reply(route: [Data], body: Data)
        case stop
    }

    let boundSocket: ZMQSocket
    var socket: ZMQSocket? { boundSocket }
    private let maxRequestBytes: Int
    private let handler: FrameServer.Handler
    private let mailbox: Mailbox<Command>
    private let logger: Logger

    init(
        endpoint: String,
        maxRequestBytes: Int,
        handler: @escaping FrameServer.Handler,
        mailbox: Mailbox<Command>,
        logger: Logger
    ) throws(ZMQError) {
        boundSocket = try ZMQSocket(.router)
        // A peer announcing a frame far past the limit is cut off before anything is allocated.
        try boundSocket.set(.maxMessageSize(Int64(max(maxRequestBytes, 1 << 20)) * 4))
        try boundSocket.bind(endpoint)
        self.maxRequestBytes = maxRequestBytes
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
            case .reply(let route, let body): send(route: route, body: body)
            case .stop: return false
            }
        }
        return true
    }

    func close() { boundSocket.close() }

    private func accept(_ frames: [Data]) {
        // REQ peers put an empty delimiter after the routing frames; a DEALER may not.
        let route: [Data]
        let body: ArraySlice<Data>
        if let delimiter = frames.firstIndex(where: \.isEmpty) {
            route = Array(frames[...delimiter])
            body = frames[(delimiter + 1)...]
        } else {
            route = [frames[0]]
            body = frames.dropFirst()
        }
        let request: FrameServer.Request
        if body.count != 1 {
            request = .malformed("a request is one frame, not \(body.count)")
        } else if let frame = body.first, frame.count <= maxRequestBytes {
            request = .frame(frame)
        } else {
            request = .malformed("request larger than \(maxRequestBytes) bytes")
        }
        // Starts here, on the socket's thread: a handler that never suspends is answered with no hop.
        Task.immediate { [handler, mailbox] in
            let reply = await handler(request)
            mailbox.post(.reply(route: route, body: reply))
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
