import ArgumentParser
import Bridge
import Foundation
import Health
import Logging
import Messaging

@main
struct MarliseBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-bridge",
        abstract: "Drop-in for the C++ modhost-bridge: JSON over ZeroMQ to mod-host's TCP protocol.",
        discussion: """
            Configured by environment, as the C++ bridge: MOD_HOST_HOST, MOD_HOST_PORT, MOD_HOST_FEEDBACK_PORT, \
            MODHOST_BRIDGE_REP, MODHOST_BRIDGE_PUB, MODHOST_BRIDGE_HEALTH, JACK_DEFAULT_SERVER; also \
            MODHOST_BRIDGE_PUB_SINGLE_FRAME, MODHOST_BRIDGE_COMMAND_TIMEOUT, MODHOST_BRIDGE_RECONNECT_MAX.
            """
    )

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let configuration = try BridgeConfiguration(environment: Environment(ProcessInfo.processInfo.environment))
        let signals = Termination.signals()
        let bridge = try await Bridge.start(configuration)
        let (reply, publish, health) = bridge.endpoints
        SystemdNotifier().notify("READY=1\nSTATUS=requests on \(reply), events on \(publish), health on \(health)")
        // SIGHUP has nothing to reload here; SIGTERM or SIGINT stops.
        var received = signals.makeAsyncIterator()
        while let signal = await received.next(), signal == SIGHUP {}
        SystemdNotifier().notify("STOPPING=1")
        await bridge.shutdown()
    }
}
