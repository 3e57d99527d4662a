import ArgumentParser
import Foundation
import Health
import Logging
import Messaging
import SessionService

@main
struct MarliseSession: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-session",
        abstract: "The Marlise session manager: RPC on 127.0.0.1:5718, events on 6718."
    )

    @Option(help: "Bind the RPC socket here instead of the derived port.")
    var rpc: String?

    @Option(help: "Bind the event socket here instead of the derived port.")
    var pub: String?

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let configuration = try SessionConfiguration(environment: Environment(ProcessInfo.processInfo.environment))
        ParentWatch.start()
        // Before anything slow: a SIGTERM during start-up is a stop in order, not a kill.
        let signals = Termination.signals()
        let notifier = SystemdNotifier()
        // The supervisor counts the stack healthy only once the pedalboard is back in the host.
        let server = try await SessionServer.start(configuration, rpcEndpoint: rpc, pubEndpoint: pub) { playing in
            notifier.notify(playing ? "BOARD=playing" : "BOARD=restoring")
        }
        SystemdNotifier().notify("READY=1\nSTATUS=serving \(server.rpc.endpoint), events on \(server.events.endpoint)")
        // SIGHUP has nothing to reload here; SIGTERM or SIGINT stops.
        var received = signals.makeAsyncIterator()
        while let signal = await received.next(), signal == SIGHUP {}
        await server.shutdown()
    }
}
