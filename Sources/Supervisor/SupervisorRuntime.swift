import Foundation
import Health
public import Logging
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor process: the stack, its health on every face (HTTP, ZeroMQ, sd_notify), and the
/// signals that stop it. What `marlise-supervisor` runs.
public enum SupervisorRuntime {
    /// Runs until stopped by SIGTERM/SIGINT (exit 0) or until a service gives up (exit 1). On SIGHUP
    /// `reload` builds the configuration again (from the config file) and changed services restart.
    public static func run(
        _ configuration: SupervisorConfiguration,
        environment: [String: String],
        logger: Logger,
        reload: @escaping @Sendable () throws -> SupervisorConfiguration
    ) async throws -> Int32 {
        let supervisor = try Supervisor(configuration: configuration, environment: environment, logger: logger)
        let board = HealthBoard()
        let systemd = SystemdReporter()
        let events = try await Publisher.start(endpoint: configuration.eventsEndpoint, sourceService: "supervisor")
        await supervisor.onChange { report in
            board.post(report)
            systemd.update(report)
            events.publish("health_changed", data: report.json)
        }
        let rpc = try await RPCServer.start(
            RPCServerConfiguration(endpoint: configuration.healthEndpoint),
            router: router(supervisor, board),
            logger: logger
        )
        let (host, port) = try parse(address: configuration.httpAddress)
        let http = try HealthHTTPServer(host: host, port: port, board: board)
        let serving = Task { try await http.run() }
        try await http.waitUntilListening()
        logger.info(
            "health",
            metadata: [
                "http": "\(configuration.httpAddress)", "rpc": "\(rpc.endpoint)", "events": "\(events.endpoint)",
            ]
        )

        let watchdog = Task { await keepWatchdogFed(supervisor) }
        let signals = Task {
            var received = 0
            for await number in Termination.signals() {
                if number == SIGHUP {
                    await reloadConfiguration(supervisor, systemd: systemd, logger: logger, reload: reload)
                    continue
                }
                received += 1
                if received == 1 {
                    systemd.stopping()
                    Task { await supervisor.stop() }
                } else {
                    await supervisor.killAll()
                }
            }
        }
        let outcome = await supervisor.run()
        signals.cancel()
        watchdog.cancel()
        await http.stop()
        serving.cancel()
        await rpc.shutdown()
        await events.shutdown()
        if case .gaveUp(let service, let reason) = outcome {
            systemd.stopping()
            logger.critical("gave up on \(service): \(reason)")
            return 1
        }
        return 0
    }

    /// SIGHUP: `RELOADING=1`, the config read again, changed services restarted, `READY=1` once settled.
    /// A config that no longer reads is reported and the running one kept.
    private static func reloadConfiguration(
        _ supervisor: Supervisor,
        systemd: SystemdReporter,
        logger: Logger,
        reload: @Sendable () throws -> SupervisorConfiguration
    ) async {
        systemd.reloading()
        do {
            let configuration = try reload()
            let selected = configuration.selectedServices
            await supervisor.reload(selected)
            await supervisor.settled(timeout: .seconds(30))
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            await supervisor.note("reload refused, keeping the running configuration: \(error)")
        }
        systemd.reloaded()
    }

    /// `WATCHDOG=1` at half systemd's interval, and only after the supervisor's actor answered: a
    /// wedged supervisor stops feeding the watchdog and gets killed.
    private static func keepWatchdogFed(_ supervisor: Supervisor) async {
        let notifier = SystemdNotifier()
        guard let interval = notifier.watchdogInterval else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval / 2)
            _ = await supervisor.health()
            notifier.notify("WATCHDOG=1")
        }
    }

    private static func router(_ supervisor: Supervisor, _ board: HealthBoard) -> RPCRouter {
        var router = RPCRouter()
        router.register("health_check") { _ in board.report.json }
        router.register("restart_service") { request in
            let name = try request.string("name")
            do { try await supervisor.restart(name) } catch { throw RPCError(.notFound, "\(error)") }
            return ["success": true]
        }
        router.register("stop_service") { request in
            let name = try request.string("name")
            do { try await supervisor.stopService(name) } catch { throw RPCError(.notFound, "\(error)") }
            return ["success": true]
        }
        router.register("start_service") { request in
            let name = try request.string("name")
            do { try await supervisor.startService(name) } catch { throw RPCError(.invalidParameters, "\(error)") }
            return ["success": true]
        }
        return router
    }

    /// `127.0.0.1:8080` into its parts.
    static func parse(address: String) throws -> (String, UInt16) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw OperatorError("HTTP address '\(address)' is not host:port")
        }
        return (String(address[..<colon]), port)
    }
}
