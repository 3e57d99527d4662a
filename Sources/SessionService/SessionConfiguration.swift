public import Messaging

/// The session service's settings, with the documented names and defaults of the reference.
public struct SessionConfiguration: Sendable, Equatable {
    /// `MODHOST_BRIDGE_ENDPOINT`: where the bridge's REP socket is.
    public var bridgeEndpoint = "tcp://127.0.0.1:6000"
    /// `MODHOST_BRIDGE_HEALTH`: the bridge's health endpoint, probed for the state of bridge, host and JACK.
    public var bridgeHealthEndpoint = "tcp://127.0.0.1:6002"
    /// `MODHOST_BRIDGE_PUB`: the bridge's events, watched for `host_reconnected`.
    public var bridgeEventsEndpoint = "tcp://127.0.0.1:6001"
    /// `MODHOST_BRIDGE_TIMEOUT`: how long one bridge call waits for its reply.
    public var bridgeTimeout: Duration = .seconds(5)
    /// `BRIDGE_CONNECT_RETRIES`: further tries of a bridge call that timed out.
    public var bridgeRetries = 5
    /// `BRIDGE_CONNECT_RETRY_DELAY`: pause between those tries.
    public var bridgeRetryDelay: Duration = .seconds(1)
    /// `SESSION_MANAGER_AUTO_CREATE_DEFAULT`: create a "Default" pedalboard at start-up.
    public var autoCreateDefault = false
    /// `SESSION_MANAGER_DATA_DIR`: where pedalboards are stored.
    public var dataDirectory = "data/session_manager"
    /// `ZMQ_BASE_PORT`: the base of the port derivation (the reference documents it but ignores it).
    public var basePort = ServicePorts.defaultBase
    /// `start_recording`'s JACK server and limits: `JACK_DEFAULT_SERVER` (libjack's own variable)
    /// and `SESSION_MANAGER_RECORDING_MAX_SECONDS`.
    public var recording = RecordingSettings()

    public init() {}

    /// Reads the documented variables over the defaults.
    public init(environment: Environment) throws(ConfigurationError) {
        self.init()
        if let value = environment.string("MODHOST_BRIDGE_ENDPOINT") { bridgeEndpoint = value }
        if let value = environment.string("MODHOST_BRIDGE_HEALTH") { bridgeHealthEndpoint = value }
        if let value = environment.string("MODHOST_BRIDGE_PUB") { bridgeEventsEndpoint = value }
        if let value = try environment.seconds("MODHOST_BRIDGE_TIMEOUT") { bridgeTimeout = value }
        if let value = try environment.int("BRIDGE_CONNECT_RETRIES", in: 0...1000) { bridgeRetries = value }
        if let value = try environment.seconds("BRIDGE_CONNECT_RETRY_DELAY") { bridgeRetryDelay = value }
        if let value = try environment.bool("SESSION_MANAGER_AUTO_CREATE_DEFAULT") { autoCreateDefault = value }
        if let value = environment.string("SESSION_MANAGER_DATA_DIR") { dataDirectory = value }
        if let value = try environment.int("ZMQ_BASE_PORT", in: 1...64535) { basePort = value }
        if let value = environment.string("JACK_DEFAULT_SERVER") { recording.jackServer = value }
        if let value = try environment.seconds("SESSION_MANAGER_RECORDING_MAX_SECONDS") { recording.maxLength = value }
    }

    /// The session manager's own ports, derived from its service name.
    public var ports: ServicePorts { ServicePorts(service: "session_manager", base: basePort) }

    /// The bridge client's settings: `1 + BRIDGE_CONNECT_RETRIES` tries per call.
    public var bridge: BridgeClient.Settings {
        BridgeClient.Settings(
            endpoint: bridgeEndpoint,
            healthEndpoint: bridgeHealthEndpoint,
            eventsEndpoint: bridgeEventsEndpoint,
            timeout: bridgeTimeout,
            retry: RetryPolicy(attempts: bridgeRetries + 1, delay: bridgeRetryDelay)
        )
    }

    /// How calls to the bridge are made: `1 + BRIDGE_CONNECT_RETRIES` tries in all.
    public var bridgeClient: RPCClientConfiguration {
        var client = RPCClientConfiguration(
            endpoint: bridgeEndpoint,
            timeout: bridgeTimeout,
            retry: RetryPolicy(attempts: bridgeRetries + 1, delay: bridgeRetryDelay)
        )
        client.sourceService = "session_manager"
        return client
    }
}
