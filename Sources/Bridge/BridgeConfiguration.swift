public import Messaging

/// The bridge's settings, with the C++ modhost-bridge's variable names and defaults.
public struct BridgeConfiguration: Sendable, Equatable {
    /// `MOD_HOST_HOST`
    public var modHostHost = "localhost"
    /// `MOD_HOST_PORT`: mod-host's command port.
    public var modHostPort = 5555
    /// `MOD_HOST_FEEDBACK_PORT`: mod-host's feedback port.
    public var modHostFeedbackPort = 5556
    /// `MODHOST_BRIDGE_REP`: where JSON requests are answered.
    public var replyEndpoint = "tcp://127.0.0.1:6000"
    /// `MODHOST_BRIDGE_PUB`: where feedback events are published.
    public var publishEndpoint = "tcp://127.0.0.1:6001"
    /// `MODHOST_BRIDGE_HEALTH`: where health is answered.
    public var healthEndpoint = "tcp://127.0.0.1:6002"
    /// `JACK_DEFAULT_SERVER`: the JACK server the host runs on; `nil` for JACK's default.
    public var jackServer: String?
    /// `MODHOST_BRIDGE_PUB_SINGLE_FRAME`: publish the C++ bridge's one-frame events (no topic frame)
    /// for old subscribers; off by default.
    public var singleFramePublish = false
    /// `MODHOST_BRIDGE_COMMAND_TIMEOUT` (seconds): how long a mod-host reply may take before the
    /// connection is dropped and rebuilt.
    public var commandTimeout: Duration = .seconds(5)
    /// `MODHOST_BRIDGE_RECONNECT_MAX` (seconds): the longest pause between reconnection attempts.
    public var reconnectCap: Duration = .seconds(1)

    public init() {}

    public init(environment: Environment) throws(ConfigurationError) {
        self.init()
        if let value = environment.string("MOD_HOST_HOST") { modHostHost = value }
        if let value = try environment.int("MOD_HOST_PORT", in: 1...65535) { modHostPort = value }
        if let value = try environment.int("MOD_HOST_FEEDBACK_PORT", in: 1...65535) { modHostFeedbackPort = value }
        if let value = environment.string("MODHOST_BRIDGE_REP") { replyEndpoint = value }
        if let value = environment.string("MODHOST_BRIDGE_PUB") { publishEndpoint = value }
        if let value = environment.string("MODHOST_BRIDGE_HEALTH") { healthEndpoint = value }
        jackServer = environment.string("JACK_DEFAULT_SERVER")
        if let value = try environment.bool("MODHOST_BRIDGE_PUB_SINGLE_FRAME") { singleFramePublish = value }
        if let value = try environment.seconds("MODHOST_BRIDGE_COMMAND_TIMEOUT"), value > .zero {
            commandTimeout = value
        }
        if let value = try environment.seconds("MODHOST_BRIDGE_RECONNECT_MAX"), value > .zero { reconnectCap = value }
    }
}
