public import Foundation

/// Publishes events on a PUB socket: two frames, `[topic, JSON]`.
///
/// Publishing never blocks the caller: frames are handed to the socket's thread, and a PUB drops
/// what a slow subscriber cannot take (at its high-water mark) rather than wait.
public final class Publisher: Sendable {
    /// The bound endpoint, wildcard port resolved.
    public let endpoint: String
    /// Written as `source_service` in every event.
    public let sourceService: String
    private let thread: SocketThread<PublisherLoop.Command>

    private init(endpoint: String, sourceService: String, thread: SocketThread<PublisherLoop.Command>) {
        self.endpoint = endpoint
        self.sourceService = sourceService
        self.thread = thread
    }

    /// Binds a PUB socket at `endpoint`, served by `thread` (one of its own when nil).
    public static func start(
        endpoint: String,
        sourceService: String,
        on thread: LoopThread? = nil
    ) async throws(ZMQError) -> Publisher {
        let (thread, bound) = try await SocketThread<PublisherLoop.Command>.start(
            name: "publisher \(endpoint)",
            on: thread,
            makeLoop: { _ throws(ZMQError) in try PublisherLoop(endpoint: endpoint) },
            describe: { loop throws(ZMQError) in try loop.boundSocket.lastEndpoint() }
        )
        return Publisher(endpoint: bound, sourceService: sourceService, thread: thread)
    }

    /// Publishes `[eventType, {"event_type", "data", "source_service", "timestamp"}]`.
    public func publish(_ eventType: String, data: JSONValue) {
        publish(frames: EventEnvelope(eventType: eventType, data: data, sourceService: sourceService).frames)
    }

    /// Publishes a message as given; the first frame is the topic subscribers filter on.
    public func publish(frames: [Data]) {
        guard !frames.isEmpty else { return }
        thread.mailbox.post(.publish(frames))
    }

    public func shutdown() async {
        thread.mailbox.post(.stop)
        await thread.join()
    }
}

final class PublisherLoop: SocketLoop {
    enum Command: Sendable {
        case publish([Data])
        case stop
    }

    let boundSocket: ZMQSocket
    var socket: ZMQSocket? { nil }  // a PUB has no input to watch

    init(endpoint: String) throws(ZMQError) {
        boundSocket = try ZMQSocket(.pub)
        try boundSocket.bind(endpoint)
    }

    func socketReadable() throws(ZMQError) {}

    func handle(_ commands: [Command]) -> Bool {
        for command in commands {
            switch command {
            case .publish(let frames): _ = try? boundSocket.send(frames, dontWait: true)
            case .stop: return false
            }
        }
        return true
    }

    func close() { boundSocket.close() }
}

/// Receives published messages on a SUB socket, as an async sequence of multipart messages.
public final class Subscriber: Sendable {
    /// Every message received, in order; finishes after ``shutdown()``.
    public let messages: AsyncStream<[Data]>
    private let thread: SocketThread<SubscriberLoop.Command>

    private init(messages: AsyncStream<[Data]>, thread: SocketThread<SubscriberLoop.Command>) {
        self.messages = messages
        self.thread = thread
    }

    /// Connects to `endpoints` and subscribes to every topic that starts with one of `topics`
    /// (`[""]`: everything).
    public static func start(
        connectingTo endpoints: [String],
        topics: [String] = [""]
    ) async throws(ZMQError)
        -> Subscriber
    {
        let (stream, continuation) = AsyncStream<[Data]>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let (thread, _) = try await SocketThread<SubscriberLoop.Command>.start(
            name: "subscriber",
            makeLoop: { _ throws(ZMQError) in
                try SubscriberLoop(endpoints: endpoints, topics: topics, continuation: continuation)
            },
            describe: { _ in () }
        )
        return Subscriber(messages: stream, thread: thread)
    }

    public func shutdown() async {
        thread.mailbox.post(.stop)
        await thread.join()
    }
}

final class SubscriberLoop: SocketLoop {
    enum Command: Sendable { case stop }

    private let subscribed: ZMQSocket
    var socket: ZMQSocket? { subscribed }
    private let continuation: AsyncStream<[Data]>.Continuation

    init(endpoints: [String], topics: [String], continuation: AsyncStream<[Data]>.Continuation) throws(ZMQError) {
        subscribed = try ZMQSocket(.sub)
        for topic in topics { try subscribed.set(.subscribe(Data(topic.utf8))) }
        for endpoint in endpoints { try subscribed.connect(endpoint) }
        self.continuation = continuation
    }

    func socketReadable() throws(ZMQError) {
        while let frames = try subscribed.receive(dontWait: true) { continuation.yield(frames) }
    }

    func handle(_ commands: [Command]) -> Bool { false }

    func close() {
        subscribed.close()
        continuation.finish()
    }
}
