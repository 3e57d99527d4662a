import Foundation
import Health
public import Logging
import Messaging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor process: the stack, its health on every face (HTTP, ZeroMQ, sd_notify), and the
/// signals that stop it. What `marlise-supervisor` runs.
///
/// Each part is a service of one swift-service-lifecycle `ServiceGroup`. They start in the order
/// listed and shut down gracefully in reverse: the stack first (while every health face still
/// reports it going down), then the signal handler and the watchdog, the HTTP server, the ZeroMQ
/// health endpoint and last the event publisher. When the stack's run ends (stopped by a signal,
/// or given up) the rest shut down after it.
public enum SupervisorRuntime {
    /// Runs until stopped by SIGTERM/SIGINT (exit 0) or until the audio path gives up (exit 1). On
    /// SIGHUP `reload` builds the configuration again (from the config file) and changed services restart.
    public static func run(
        _ configuration: SupervisorConfiguration,
        environment: [String: String],
        logger: Logger,
        reload: @escaping @Sendable () throws -> SupervisorConfiguration
    ) async throws -> Int32 {
        let supervisor = try Supervisor(configuration: configuration, environment: environment, logger: logger)
        let board = HealthBoard()
        let history = HealthHistory()
        let systemd = SystemdReporter()
        let events = try await Publisher.start(endpoint: configuration.eventsEndpoint, sourceService: "supervisor")
        await supervisor.onChange { report in
            board.post(report)
            history.touch()
            systemd.update(report)
            events.publish("health_changed", data: report.json)
        }
        let rpc = try await RPCServer.start(
            RPCServerConfiguration(endpoint: configuration.healthEndpoint),
            router: router(supervisor, board, configuration: configuration),
            logger: logger
        )
        let (host, port) = try parse(address: configuration.httpAddress)
        let http = try HealthHTTPServer(
            host: host,
            port: port,
            board: board,
            history: history,
            actions: operatorActions(supervisor, environment: environment)
        )
        logger.info(
            "health",
            metadata: [
                "http": "\(configuration.httpAddress)", "rpc": "\(rpc.endpoint)", "events": "\(events.endpoint)",
            ]
        )

        let stack = StackService(supervisor: supervisor)
        let reloading = ConfigurationReload(supervisor: supervisor, systemd: systemd, logger: logger, reload: reload)
        // A part that fails shuts the group down gracefully: the stack is always stopped in order.
        func part(
            _ service: any Service,
            whenDone: ServiceGroupConfiguration.ServiceConfiguration.TerminationBehavior
        )
            -> ServiceGroupConfiguration.ServiceConfiguration
        {
            .init(
                service: service,
                successTerminationBehavior: whenDone,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    part(ClosingService(name: "events") { await events.shutdown() }, whenDone: .ignore),
                    part(ClosingService(name: "health-rpc") { await rpc.shutdown() }, whenDone: .ignore),
                    part(HTTPService(server: http), whenDone: .ignore),
                    part(
                        sampler(board, history, configuration: configuration, supervisor: supervisor),
                        whenDone: .ignore
                    ),
                    // Returns at once outside systemd's watchdog.
                    part(WatchdogService(supervisor: supervisor), whenDone: .ignore),
                    part(SignalService(supervisor: supervisor, systemd: systemd, reload: reloading), whenDone: .ignore),
                    part(stack, whenDone: .gracefullyShutdownGroup),
                ],
                logger: logger
            )
        )
        try await group.run()
        if case .gaveUp(let service, let reason) = stack.outcome.current {
            systemd.stopping()
            logger.critical("gave up on \(service): \(reason)")
            return 1
        }
        return 0
    }

    private static func router(
        _ supervisor: Supervisor,
        _ board: HealthBoard,
        configuration: SupervisorConfiguration
    ) -> RPCRouter {
        var router = RPCRouter()
        router.register("health_check") { _ in board.report.json }
        // Where a service's log is, so `marlisectl logs` finds it wherever the supervisor was
        // started from (under systemd, its working directory is not the operator's).
        // The service may be named by its log file's stem (`session-manager`) too.
        let folder = URL(fileURLWithPath: configuration.logDirectory).standardizedFileURL.path
        router.register("log_path") { request in
            let name = try request.string("name")
            guard let logName = configuration.logName(of: name) else {
                throw RPCError(.notFound, "no service named '\(name)'")
            }
            return ["path": .string("\(folder)/\(logName).log")]
        }
        router.register("restart_service") { request in
            let name = try request.string("name")
            do { try await supervisor.restart(name) } catch { throw RPCError(.notFound, "\(error)", underlying: error) }
            return ["success": true]
        }
        router.register("stop_service") { request in
            let name = try request.string("name")
            do { try await supervisor.stopService(name) } catch {
                throw RPCError(.notFound, "\(error)", underlying: error)
            }
            return ["success": true]
        }
        router.register("start_service") { request in
            let name = try request.string("name")
            do { try await supervisor.startService(name) } catch {
                throw RPCError(.invalidParameters, "\(error)", underlying: error)
            }
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
