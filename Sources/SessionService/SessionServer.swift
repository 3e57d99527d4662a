import Foundation
public import Logging
public import Messaging

/// The session service's sockets: RPC on the derived port (5718) and events on the next (6718).
///
/// So far it answers `echo` and a truthful `health_check`; the Session Manager API is built on
/// this (issue 7).
public final class SessionServer: Sendable {
    public let rpc: RPCServer
    public let events: Publisher
    private let bridge: RPCClient

    private init(rpc: RPCServer, events: Publisher, bridge: RPCClient) {
        self.rpc = rpc
        self.events = events
        self.bridge = bridge
    }

    /// Binds both sockets; `rpcEndpoint`/`pubEndpoint` override the derived ports (tests bind `:*`).
    public static func start(
        _ configuration: SessionConfiguration,
        rpcEndpoint: String? = nil,
        pubEndpoint: String? = nil,
        logger: Logger = Logger(label: "marlise.session")
    ) async throws(ZMQError) -> SessionServer {
        // Health asks the bridge once, quickly: it reports the bridge's state, it does not wait it out.
        var healthProbe = configuration.bridgeClient
        healthProbe.timeout = min(configuration.bridgeTimeout, .seconds(2))
        healthProbe.retry = RetryPolicy()
        let bridge = RPCClient(healthProbe)

        var router = RPCRouter()
        router.register("echo") { request in .object(request.params) }
        router.register("health_check") { _ in
            let connected: Bool
            do {
                let reply = try JSONValue(
                    parsing: try await bridge.request(Data(#"{"action":"audio","method":"get_jack_sample_rate"}"#.utf8))
                )
                connected = reply["error"] == nil
            } catch {
                connected = false
            }
            // mod-host's state is not reported by the bridge yet (issue 6), so it is not claimed.
            return [
                "success": true, "healthy": false, "bridge_connected": .bool(connected),
                "mod_host_connected": false,
            ]
        }
        let ports = configuration.ports
        let events = try await Publisher.start(
            endpoint: pubEndpoint ?? ports.pubEndpoint,
            sourceService: "session_manager"
        )
        let rpc: RPCServer
        do {
            rpc = try await RPCServer.start(
                RPCServerConfiguration(endpoint: rpcEndpoint ?? ports.rpcEndpoint),
                router: router,
                logger: logger
            )
        } catch {
            await events.shutdown()
            throw error
        }
        logger.info("session service listening", metadata: ["rpc": "\(rpc.endpoint)", "pub": "\(events.endpoint)"])
        return SessionServer(rpc: rpc, events: events, bridge: bridge)
    }

    public func shutdown() async {
        await rpc.shutdown()
        await events.shutdown()
        await bridge.shutdown()
    }
}
