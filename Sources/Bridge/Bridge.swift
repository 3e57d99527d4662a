import Foundation
import Locking
public import Logging
public import Messaging
import ModHostWire

/// The bridge between JSON over ZeroMQ and mod-host's TCP text protocol: a drop-in for the C++
/// modhost-bridge (same endpoints, environment and JSON shapes) without its defects.
///
/// Three sockets: the request endpoint (`MODHOST_BRIDGE_REP`) and the event endpoint
/// (`MODHOST_BRIDGE_PUB`), owned by one thread that also reads mod-host's replies, and the health
/// endpoint (`MODHOST_BRIDGE_HEALTH`), owned by another so that health answers whatever the request
/// thread is doing. One persistent connection pair to mod-host, kept up by ``ModHostLink``.
public final class Bridge: Sendable {
    public let configuration: BridgeConfiguration
    let link: ModHostLink
    let events: BridgeEvents
    let registry = Locked(InstanceRegistry())
    let catalogue = CatalogueStore()
    let audio: AudioService
    let logger: Logger
    /// Instances mod-host lost with its last restart, as reported in health.
    let lostInstances = Locked<[String]>([])
    /// The link state last published, so a long outage is one event, not one per attempt.
    let lastPublishedLink = Locked("")
    private let servers = Locked<[FrameServer]>([])
    private let tasks = Locked<[Task<Void, Never>]>([])
    private let bound = Locked<[String]>([])
    /// The request and event sockets' thread, which also reads mod-host's replies: a request that
    /// waits on mod-host is answered from the thread that reads the reply, with no hop.
    let requestThread = LoopThread(name: "bridge requests")

    private init(configuration: BridgeConfiguration, events: BridgeEvents, logger: Logger) {
        self.configuration = configuration
        self.events = events
        self.logger = logger
        link = ModHostLink(
            client: ModHostClient(
                host: configuration.modHostHost,
                commandPort: configuration.modHostPort,
                feedbackPort: configuration.modHostFeedbackPort,
                timeout: configuration.commandTimeout,
                connectsOnDemand: false,
                replyThread: requestThread
            ),
            backoffCap: configuration.reconnectCap
        )
        audio = AudioService(server: configuration.jackServer)
    }

    /// Binds the three endpoints, starts connecting to mod-host and scanning LV2 plugins, and
    /// returns once requests are served. Throws if an endpoint cannot be bound.
    public static func start(
        _ configuration: BridgeConfiguration,
        logger: Logger = Logger(label: "marlise.bridge")
    ) async throws(ZMQError) -> Bridge {
        let bridge = Bridge(
            configuration: configuration,
            events: BridgeEvents(singleFrame: configuration.singleFramePublish),
            logger: logger
        )
        bridge.catalogue.rescan(rescanning: false)
        do {
            let requests = try await FrameServer.start(
                endpoint: configuration.replyEndpoint,
                publishEndpoint: configuration.publishEndpoint,
                logger: logger,
                on: bridge.requestThread
            ) { request in bridge.reply(to: request) }
            bridge.servers.withLock { $0.append(requests) }
            bridge.events.attach(requests)
            let health = try await FrameServer.start(endpoint: configuration.healthEndpoint, logger: logger) {
                request in .now(bridge.healthReply(to: request))
            }
            bridge.servers.withLock { $0.append(health) }
            bridge.bound.withLock {
                $0 = [requests.endpoint, requests.publishEndpoint ?? configuration.publishEndpoint, health.endpoint]
            }
        } catch {
            await bridge.stopServing()
            throw error
        }
        let linkTask = Task { await bridge.link.run { health, cameBack in await bridge.linkChanged(health, cameBack) } }
        let feedbackTask = Task {
            for await line in bridge.link.client.feedback { bridge.feedbackReceived(line) }
        }
        bridge.audio.onChange = { state in bridge.events.publish("jack_state", state.json) }
        bridge.tasks.withLock { $0 = [linkTask, feedbackTask] }
        return bridge
    }

    /// The bound endpoints, wildcard ports resolved: requests, events, health.
    public var endpoints: (reply: String, publish: String, health: String) {
        let bound = bound.withLock { $0 }
        return (bound[0], bound[1], bound[2])
    }

    /// Removes every plugin it loaded (as the C++ bridge does on SIGTERM), then closes the sockets
    /// and the connection to mod-host, command side first.
    public func shutdown() async {
        for instance in registry.withLock({ $0.all }) {
            _ = try? await link.send(ModHostCommand("remove", [.int(instance.number)]))
        }
        await stopServing()
        audio.close()
        // The observer holds the bridge: dropped, so a bridge that has shut down can be freed.
        audio.onChange = nil
    }

    private func stopServing() async {
        let tasks = tasks.withLock { $0 }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        link.client.close()
        for server in servers.withLock({ $0 }) { await server.shutdown() }
    }

    // MARK: - Requests

    /// One reply frame for one request frame, compact JSON with sorted keys. Requests one mod-host
    /// command answers (`set_parameter`, `get_parameter`, raw and structured commands) are written
    /// to the host at once and answered when its reply comes, many in flight; listings and health
    /// are answered on the request socket's thread; the others (loads, catalogue, JACK) in a task.
    func reply(to request: FrameServer.Request) -> FrameServer.Reply {
        let object: [String: JSONValue]
        switch request {
        case .malformed(let why):
            return .now(
                BridgeError(.invalidRequest, "Invalid request format: \(why)").json.serialized(sortedKeys: true)
            )
        case .busy:
            return .now(BridgeError(.busy, "Too many requests in flight; try again").json.serialized(sortedKeys: true))
        case .frame(let frame):
            guard let parsed = try? JSONValue(parsing: frame), let members = parsed.objectValue, !members.isEmpty else {
                return .now(BridgeError(.invalidRequest, "Invalid request format").json.serialized(sortedKeys: true))
            }
            object = members
        }
        do throws(BridgeError) {
            if let exchange = try hostExchange(object) {
                return .deferred { respond in self.perform(exchange, respond: respond) }
            }
        } catch {
            return .now(error.json.serialized(sortedKeys: true))
        }
        if let answer = respondNow(to: object) { return .now(answer.serialized(sortedKeys: true)) }
        return .later { await self.respondLater(to: object).serialized(sortedKeys: true) }
    }

    /// Dispatches as the C++ bridge does: `action` first, then `command`, then `name` + `args`;
    /// `nil` when the request needs to wait for something (``respondLater(to:)``). Requests one
    /// mod-host command answers never come here (``hostExchange(_:)``).
    func respondNow(to object: [String: JSONValue]) -> JSONValue? {
        do throws(BridgeError) {
            switch object["action"]?.stringValue {
            case "plugin": return try pluginNow(object).map(Self.succeeded)
            case "audio": return nil
            case "health": return healthJSON()
            default: throw BridgeError(.invalidRequest, "Invalid request format")
            }
        } catch {
            return error.json
        }
    }

    func respondLater(to object: [String: JSONValue]) async -> JSONValue {
        do throws(BridgeError) {
            if object["action"]?.stringValue == "audio" { return Self.succeeded(try await audioAction(object)) }
            return Self.succeeded(try await plugin(object))
        } catch {
            return error.json
        }
    }

    /// An object reply without `success` or `error` gets `"success": true`, as the C++ bridge's.
    static func succeeded(_ result: JSONValue) -> JSONValue {
        guard var members = result.objectValue, members["success"] == nil, members["error"] == nil else {
            return result
        }
        members["success"] = true
        return .object(members)
    }

    // MARK: - mod-host's feedback

    func feedbackReceived(_ line: String) {
        let event = FeedbackEvent(line) { number in registry.withLock { $0.id(number: number) } }
        if event.type == "param_set", let id = event.data["instance_id"]?.stringValue,
            let symbol = event.data["symbol"]?.stringValue, let value = event.data["value"]?.doubleValue
        {
            registry.withLock { $0[id]?.parameters[symbol] = value }
        }
        events.publish(event.type, event.data)
    }
}
