import ArgumentParser
import Foundation
import Logging
import Messaging
import Supervisor

#if canImport(Glibc)
import Glibc
#endif

@main
struct MarliseSupervisor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-supervisor",
        abstract: "Starts, watches and restarts the Marlise audio stack: jackd, the LV2 host, the bridge, the session.",
        discussion: """
            With no options it runs the built-in stack: jackd on the dummy driver (server "marlise"), \
            mod-host (or marlise-host) on ports 5555/5556, marlise-bridge and marlise-session. Each \
            child's output goes to <log-dir>/<name>.log, the supervisor's own record to \
            <log-dir>/supervisor.log. Health: http://127.0.0.1:8080/health (200 when healthy, 503 \
            otherwise), /health/<service>, /metrics. SIGTERM or ^C stops the stack in reverse order; a \
            second ^C kills it at once. It exits non-zero when a service fails past its restart limit. \
            See all settings with --print-config; save that output, edit it, and pass it to --config.
            """
    )

    @Option(help: "A config file overriding the built-in stack (also MARLISE_CONFIG).")
    var config: String?

    @Option(help: "Where the logs go (default: logs).")
    var logDir: String?

    @Option(help: "Run only these services, comma-separated (e.g. jack,host).")
    var only: String?

    @Flag(help: "Print the effective configuration, in the config file's format, and exit.")
    var printConfig = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = try effectiveConfiguration(environment: environment)
        // In a terminal, and under systemd (whose journal reads our stderr), children's lines are echoed.
        configuration.echoLogs = isatty(STDERR_FILENO) == 1 || environment["JOURNAL_STREAM"] != nil
        if printConfig {
            print(configuration.configurationText, terminator: "")
            return
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let command = self
        let status = try await SupervisorRuntime.run(
            configuration,
            environment: environment,
            logger: Logger(label: "marlise.supervisor"),
            reload: { try command.effectiveConfiguration(environment: environment) }
        )
        if status != 0 { throw ExitCode(status) }
    }

    /// Built-in defaults, then the config file, then the flags.
    func effectiveConfiguration(environment: [String: String]) throws -> SupervisorConfiguration {
        let ownExecutables = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().path
        var configuration = SupervisorConfiguration.defaultStack(
            environment: environment,
            ownExecutables: ownExecutables
        )
        if let path = config ?? environment["MARLISE_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                try configuration.apply(configFile: path, environment: environment, ownExecutables: ownExecutables)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if let logDir { configuration.logDirectory = logDir }
        if let only {
            let names = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = names.subtracting(configuration.services.map(\.name))
            guard unknown.isEmpty else {
                throw ValidationError("--only: no service named \(unknown.sorted().joined(separator: ", "))")
            }
            configuration.only = names
        }
        return configuration
    }
}
