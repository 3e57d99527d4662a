import Foundation
import Locking
public import Messaging

/// The session's line to the bridge: JSON requests on its REP socket, its health endpoint probed
/// for the true state of bridge, host and JACK, and its events watched for `host_reconnected`.
///
/// Calls never wedge (``RPCClient`` is a Lazy Pirate) and, while the last probe or call found the
/// bridge gone, calls fail at once with `BRIDGE_ERROR` instead of waiting out a timeout each.
/// When the bridge or its host comes back, a re-sync is requested on ``resyncRequests``.
public final class BridgeClient: Sendable {
    /// Where the bridge is and how patiently it is called.
    public struct Settings: Sendable {
        public var endpoint: String
        public var healthEndpoint: String
        public var eventsEndpoint: String?
        public var timeout: Duration
        public var retry: RetryPolicy
        /// How long a health probe waits: short, so a dead bridge is noticed quickly.
        public var probeTimeout: Duration = .milliseconds(500)
        /// Pause between probes while the bridge answers, and while it does not.
        public var probeInterval: Duration = .milliseconds(500)
        public var probeIntervalWhileDown: Duration = .milliseconds(100)

        public init(
            endpoint: String,
            healthEndpoint: String,
            eventsEndpoint: String?,
            timeout: Duration,
            retry: RetryPolicy
        ) {
            self.endpoint = endpoint
            self.healthEndpoint = healthEndpoint
            self.eventsEndpoint = eventsEndpoint
            self.timeout = timeout
            self.retry = retry
        }
    }

    /// The link as last observed, for `health_check`.
    public struct Status: Sendable, Equatable {
        public var bridgeConnected: Bool
        public var hostConnected: Bool?
        public var jackRunning: Bool?
    }

    public let settings: Settings
    /// Why a re-sync is due, one element per occasion.
    public let resyncRequests: AsyncStream<String>
    private let resyncContinuation: AsyncStream<String>.Continuation
    /// What the host reports by itself (a MIDI controller moved a knob, a learned mapping, levels,
    /// the transport), as the bridge publishes it: the event's type and its `data`.
    public let hostFeedback: AsyncStream<HostFeedback>
    private let feedbackContinuation: AsyncStream<HostFeedback>.Continuation
    private let calls: RPCClient
    private let probe: RPCClient
    private let link = Locked(BridgeLink())
    /// The subscriber on the bridge's events, kept so ``shutdown()`` can end ``run()``'s watch.
    private let subscriber = Locked<(events: Subscriber?, closed: Bool)>((nil, false))

    /// Calls go out on `thread` (their own when nil): the session's, so a knob turn's call to the
    /// bridge and its reply never change threads.
    public init(_ settings: Settings, on thread: LoopThread? = nil) {
        self.settings = settings
        // One try per request: ``send(_:idempotent:)`` retries itself, so it can stop retrying the
        // moment the probe finds the bridge gone.
        var calls = RPCClientConfiguration(endpoint: settings.endpoint, timeout: settings.timeout)
        calls.sourceService = "session_manager"
        self.calls = RPCClient(calls, on: thread)
        probe = RPCClient(RPCClientConfiguration(endpoint: settings.healthEndpoint, timeout: settings.probeTimeout))
        (resyncRequests, resyncContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        // Bounded: a session that falls behind a flood of meter readings drops the oldest.
        (hostFeedback, feedbackContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1024))
    }

    public var status: Status {
        link.withLock {
            Status(bridgeConnected: $0.state == .up, hostConnected: $0.hostConnected, jackRunning: $0.jackRunning)
        }
    }

    /// Sends one request and returns the bridge's reply object.
    ///
    /// A request that times out is tried again (`1 + BRIDGE_CONNECT_RETRIES` tries, the retry delay
    /// between them) while the probe still finds the bridge up; `idempotent: false` (loading a
    /// plugin) is tried once: a retry after a lost reply could load it twice. Throws `BRIDGE_ERROR`
    /// when the bridge is down, does not answer, or answers an error.
    @discardableResult
    public func send(_ request: JSONValue, idempotent: Bool = true) async throws(RPCError) -> JSONValue {
        let body = request.serialized()
        let attempts = idempotent ? settings.retry.attempts : 1
        var attempt = 0
        var frame: Data?
        // Just after start the first probe may not have answered yet: wait for it briefly rather
        // than refuse a call to a bridge that is there.
        let firstProbeBy = ContinuousClock.now + settings.probeTimeout * 3
        while link.withLock({ $0.state == .unknown }) && ContinuousClock.now < firstProbeBy {
            try? await Task.sleep(for: .milliseconds(10))
        }
        while frame == nil {
            // Checked before every try: once the probe has found the bridge gone, nothing waits.
            guard link.withLock({ $0.state == .up }) else {
                throw RPCError(.bridgeError, "Bridge not reachable at \(settings.endpoint)")
            }
            attempt += 1
            do {
                frame = try await calls.request(body)
            } catch  where error.code == .timeout && attempt < attempts {
                try? await Task.sleep(for: settings.retry.delay)
            } catch {
                if error.code != .shutdown { link.withLock { $0.callFailed() } }
                throw RPCError(.bridgeError, "Bridge did not answer: \(error.message)", underlying: error)
            }
        }
        guard let frame else { throw RPCError(.bridgeError, "Bridge did not answer") }
        perform(link.withLock { $0.callAnswered() })
        let reply: JSONValue
        do {
            reply = try JSONValue(parsing: frame)
        } catch {
            throw RPCError(.bridgeError, "Bridge answered something that is not JSON: \(error)", underlying: error)
        }
        if let message = reply["error"], !message.isNull {
            // The bridge's own code (HOST_UNAVAILABLE, INSTANCE_NOT_FOUND, …) stays readable in the text.
            let code = reply["code"]?.stringValue.map { " [\($0)]" } ?? ""
            throw RPCError(.bridgeError, (message.stringValue ?? message.jsonText) + code)
        }
        switch reply {
        case .object: break
        case .array: return reply  // `get_jack_hardware_ports` answers a bare list of port names
        default:
            throw RPCError(.bridgeError, "Bridge answered \(reply.jsonText.prefix(200)) instead of an object")
        }
        if reply["success"] == false {
            throw RPCError(.bridgeError, reply["message"]?.stringValue ?? "Bridge reported failure")
        }
        return reply
    }

    /// `{"action": "plugin", "method": ...}` with the given fields.
    @discardableResult
    public func plugin(
        _ method: String,
        _ fields: [String: JSONValue] = [:],
        idempotent: Bool = true
    )
        async throws(RPCError) -> JSONValue
    {
        var request = fields
        request["action"] = "plugin"
        request["method"] = .string(method)
        return try await send(.object(request), idempotent: idempotent)
    }

    /// `{"action": "audio", "method": ...}` with the given fields.
    @discardableResult
    ///
    /// Our bridge opens its JACK client only on `init_jack`: a bridge that restarted since the last
    /// one answers `AUDIO_UNAVAILABLE`, so it is opened and the call made once more.
    public func audio(_ method: String, _ fields: [String: JSONValue] = [:]) async throws(RPCError) -> JSONValue {
        var request = fields
        request["action"] = "audio"
        request["method"] = .string(method)
        do {
            return try await send(.object(request))
        } catch  where method != "init_jack" && error.message.contains("AUDIO_UNAVAILABLE") {
            _ = try await send(["action": "audio", "method": "init_jack"])
            return try await send(.object(request))
        }
    }

    /// A structured host command `{"name", "args"}`, which the bridge validates and forwards.
    @discardableResult
    public func command(_ name: String, _ args: [JSONValue]) async throws(RPCError) -> JSONValue {
        try await send(["name": .string(name), "args": .array(args)])
    }

    /// One health probe; the link's state follows its outcome.
    public func probeOnce() async {
        let action: BridgeLink.Action
        do {
            let reply = try JSONValue(parsing: try await probe.request(Data(#"{"action":"health"}"#.utf8)))
            let host = reply["command_connected"]?.boolValue
            // Ours reports `jack: {open, lost}` (open once `init_jack` ran); others may say it flat.
            let jackDetail = reply["jack"]
            let jack: Bool? =
                if jackDetail?["lost"] == true {
                    false
                } else if jackDetail?["open"] == true {
                    true
                } else {
                    reply["jack_running"]?.boolValue ?? reply["jack_connected"]?.boolValue
                }
            let identity = reply["bridge_id"]?.stringValue.map { id in
                "\(id)/\(reply["host"]?["reconnects"]?.intValue ?? 0)"
            }
            action = link.withLock { $0.probeAnswered(hostConnected: host, jackRunning: jack, identity: identity) }
        } catch {
            link.withLock { $0.probeFailed() }
            action = .none
        }
        perform(action)
    }

    /// Probes the bridge until cancelled, and watches its events for `host_reconnected`.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.probeLoop() }
            if let endpoint = settings.eventsEndpoint {
                group.addTask { await self.watchEvents(endpoint) }
            }
            await group.waitForAll()
        }
    }

    public func shutdown() async {
        resyncContinuation.finish()
        feedbackContinuation.finish()
        let events = subscriber.withLock { state -> Subscriber? in
            state.closed = true
            return state.events.take()
        }
        await events?.shutdown()
        await calls.shutdown()
        await probe.shutdown()
    }

    private func probeLoop() async {
        while !Task.isCancelled {
            await probeOnce()
            let up = link.withLock { $0.state == .up }
            do {
                try await Task.sleep(for: up ? settings.probeInterval : settings.probeIntervalWhileDown)
            } catch {
                return
            }
        }
    }

    /// The bridge publishes `[topic, JSON]` (ours) or one JSON frame with a `type` (the C++ one).
    /// Only what the session acts on is subscribed to, so the bridge's PUB socket filters out the
    /// rest (every knob turn's own `parameter_changed`, loads, meters nobody asked for) before it is
    /// sent: they cost this process nothing. `{` takes the C++ bridge's single JSON frames, which
    /// have no topic.
    private func watchEvents(_ endpoint: String) async {
        let topics = HostFeedback.Kind.allCases.map(\.rawValue) + ["host_reconnected", "{"]
        guard let events = try? await Subscriber.start(connectingTo: [endpoint], topics: topics) else { return }
        let closed = subscriber.withLock { state -> Bool in
            if !state.closed { state.events = events }
            return state.closed
        }
        if closed { await events.shutdown() }
        let name = Data("host_reconnected".utf8)
        for await frames in events.messages {
            // Ours sends `[topic, JSON]`: only the topics the session acts on are parsed, so a
            // stream of meter or knob events costs a comparison each.
            if frames.count == 2, let topic = HostFeedback.Kind(topic: frames[0]) {
                if let data = (try? JSONValue(parsing: frames[1]))?["data"] {
                    feedbackContinuation.yield(HostFeedback(kind: topic, data: data))
                }
                continue
            }
            let announced = frames.contains { frame in
                guard frame.range(of: name) != nil else { return false }
                if frame == name { return true }
                return (try? JSONValue(parsing: frame))?["type"]?.stringValue == "host_reconnected"
            }
            if announced { perform(link.withLock { $0.hostReconnected() }) }
        }
    }

    private func perform(_ action: BridgeLink.Action) {
        if case .resync(let reason) = action { resyncContinuation.yield(reason) }
    }
}
