/// The supervisor's configuration for the default stack on ports, folder and JACK server name of a
/// benchmark's own: one text for every benchmark that runs the whole stack.
struct StackConfig {
    var folder: String
    var jackServer: String
    var hostPort: Int
    var hostFeedbackPort: Int
    var httpPort: Int
    var healthRPC: String
    var healthEvents: String
    var session: String
    var bridge: String
    var bridgeEvents: String
    var bridgeHealth: String
    /// More `NAME=value` for the bridge (its catalogue cache, say).
    var bridgeEnvironment: [String] = []

    var text: String {
        let bridgeEnvironment =
            ([
                "MOD_HOST_PORT=\(hostPort)", "MOD_HOST_FEEDBACK_PORT=\(hostFeedbackPort)",
                "MODHOST_BRIDGE_REP=\(bridge)",
                "MODHOST_BRIDGE_PUB=\(bridgeEvents)", "MODHOST_BRIDGE_HEALTH=\(bridgeHealth)",
            ] + self.bridgeEnvironment).map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            [jack]
            server = "\(jackServer)"
            [host]
            port = \(hostPort)
            feedback_port = \(hostFeedbackPort)
            [log]
            dir = "\(folder)/logs"
            [health]
            http = "127.0.0.1:\(httpPort)"
            rpc = "\(healthRPC)"
            events = "\(healthEvents)"
            [service.bridge]
            env = [\(bridgeEnvironment)]
            alive = "rpc:\(bridgeHealth)#health"
            [service.session]
            args = ["--rpc", "\(session)", "--pub", "tcp://127.0.0.1:*"]
            env = ["MODHOST_BRIDGE_ENDPOINT=\(bridge)", "MODHOST_BRIDGE_PUB=\(bridgeEvents)", \
            "MODHOST_BRIDGE_HEALTH=\(bridgeHealth)", "SESSION_MANAGER_DATA_DIR=\(folder)/data"]
            alive = "rpc:\(session)#health_check"
            """
    }

    /// Writes ``text`` as `<folder>/marlise.toml`.
    func write() throws {
        try text.write(toFile: "\(folder)/marlise.toml", atomically: true, encoding: .utf8)
    }
}
