import Foundation
import Messaging

/// Everything the supervisor runs with. The built-in defaults run the whole stack on a fresh
/// machine; a config file, then flags, override them (see `SupervisorConfiguration+File.swift`).
public struct SupervisorConfiguration: Sendable, Equatable {
    public var jack = JackSettings()
    /// mod-host's command and feedback ports (also marlise-host's).
    public var hostPort = 5555
    public var hostFeedbackPort = 5556
    /// Where each service's log (``ServiceSpec/logName``) and `supervisor.log` go.
    public var logDirectory = "logs"
    /// A log file is rotated past this size; this many rotated files are kept.
    public var logMaxBytes = 10 << 20
    public var logKeep = 5
    /// Also print every child's lines on the supervisor's stderr (set when it is a terminal).
    public var echoLogs = false
    /// Only these services run (`--only`); `nil`: all.
    public var only: Set<String>?
    /// Operators' HTTP health endpoint, `host:port` (`GET /health`, `/health/<service>`, `/metrics`).
    public var httpAddress = "127.0.0.1:8080"
    /// The ZeroMQ REP endpoint answering `health_check`, `restart_service`, `stop_service`, `start_service`.
    public var healthEndpoint = "tcp://127.0.0.1:5690"
    /// The ZeroMQ PUB endpoint publishing `health_changed` on every change of state.
    public var eventsEndpoint = "tcp://127.0.0.1:5691"
    /// The services, in start order; each starts once its dependencies are ready.
    public var services: [ServiceSpec]

    public init(services: [ServiceSpec]) { self.services = services }

    /// The services that run, in start order. Without a `host` among them there is no pedalboard
    /// to wait for, so no service is held back for one.
    public var selectedServices: [ServiceSpec] {
        guard let only else { return services }
        var selected = services.filter { only.contains($0.name) }
        if !only.contains("host") {
            for index in selected.indices { selected[index].reportsBoard = false }
        }
        return selected
    }
}

/// The audio server's settings.
public struct JackSettings: Sendable, Equatable {
    /// `-n`: the server name every client finds in `JACK_DEFAULT_SERVER`.
    public var server = "marlise"
    /// `-d`: `dummy` runs without hardware; `alsa` with ``device``.
    public var driver = "dummy"
    /// `-d hw:0` and the like, for the `alsa` driver.
    public var device: String?
    public var rate = 48000
    public var period = 256

    public init() {}

    /// jackd's command line after the executable.
    public var arguments: [String] {
        var arguments = ["-n", server, "-d", driver]
        if let device { arguments += ["-d", device] }
        return arguments + ["-r", String(rate), "-p", String(period)]
    }
}

extension SupervisorConfiguration {
    /// The default stack: jackd on the dummy driver, the LV2 host, the bridge and the session service.
    ///
    /// - Parameters:
    ///   - environment: where `MOD_HOST_BIN` and `MODHOST_BRIDGE_BIN` may name other programs.
    ///   - ownExecutables: the folder holding marlise-bridge, marlise-session and marlise-host.
    public static func defaultStack(environment: [String: String], ownExecutables: String) -> SupervisorConfiguration {
        var configuration = SupervisorConfiguration(services: [])
        configuration.services = configuration.defaultServices(environment: environment, ownExecutables: ownExecutables)
        return configuration
    }

    /// Rebuilds the default services from the current settings (after a config file changed the
    /// JACK server or the host's ports, say).
    public func defaultServices(environment: [String: String], ownExecutables: String) -> [ServiceSpec] {
        func own(_ name: String) -> String { (ownExecutables as NSString).appendingPathComponent(name) }

        var jack = ServiceSpec(name: "jack", executable: "jackd", readiness: .jack(server: self.jack.server))
        jack.arguments = self.jack.arguments
        jack.liveness = .jack(server: self.jack.server)

        // mod-host where installed (it serves one client at a time, so once the bridge holds it
        // only its exit is watched); otherwise our own host.
        let modHost = environment["MOD_HOST_BIN"].flatMap { $0.isEmpty ? nil : $0 }
        let hostProgram =
            modHost ?? (ExecutableLookup.find("mod-host", environment: environment) ?? own("marlise-host"))
        var host = ServiceSpec(name: "host", executable: hostProgram, readiness: .tcp(port: hostPort))
        host.arguments = ["-n", "-p", String(hostPort), "-f", String(hostFeedbackPort)]
        host.dependencies = ["jack"]
        if hostProgram.hasSuffix("/marlise-host") { host.liveness = .modhost(port: hostPort) }

        let cppBridge = environment["MODHOST_BRIDGE_BIN"].flatMap { $0.isEmpty ? nil : $0 }
        var bridge = ServiceSpec(
            name: "bridge",
            executable: cppBridge ?? own("marlise-bridge"),
            readiness: cppBridge == nil ? .notify : .rpc(endpoint: "tcp://127.0.0.1:6002", method: "health_check")
        )
        bridge.environment = ["MOD_HOST_PORT": String(hostPort), "MOD_HOST_FEEDBACK_PORT": String(hostFeedbackPort)]
        // Ours reconnects to a restarted host by itself and says so (`host_reconnected`), so the
        // session re-syncs at once; restarting it with the host would only add its start-up and a
        // missed event to the recovery. The C++ bridge cannot reconnect: it goes down with the host.
        bridge.dependencies = cppBridge == nil ? ["jack"] : ["host"]
        bridge.audioPath = false
        if cppBridge == nil {
            // Ours answers its health endpoint even while mod-host is away; silence means it is stuck.
            let health =
                environment["MODHOST_BRIDGE_HEALTH"].flatMap { $0.isEmpty ? nil : $0 } ?? "tcp://127.0.0.1:6002"
            bridge.liveness = .rpc(endpoint: health, method: "health")
        }

        // The session depends on JACK only: when the bridge restarts it keeps running and reconnects.
        var session = ServiceSpec(name: "session", executable: own("marlise-session"), readiness: .notify)
        // `health_check` never waits (it reads what the session keeps at hand) and carries the RPC
        // server's counts, which the operator's page plots from this probe alone.
        session.liveness = .rpc(endpoint: "tcp://127.0.0.1:5718", method: "health_check")
        session.dependencies = ["jack"]
        session.audioPath = false
        // It says when the pedalboard is back in a restarted host: healthy means the board plays.
        session.reportsBoard = true

        var services = [jack, host, bridge, session]
        for index in services.indices {
            services[index].logName = ServiceLogNames.stem(ofService: services[index].name)
        }
        return services
    }

    /// The stem of a running service's log file, the service given by its name (`session`) or by
    /// its file's stem (`session-manager`); `supervisor` for the supervisor's own. `nil` when no
    /// selected service matches.
    public func logName(of nameOrStem: String) -> String? {
        if nameOrStem == "supervisor" { return nameOrStem }
        return selectedServices.first { $0.name == nameOrStem || $0.logName == nameOrStem }?.logName
    }
}

/// Finds programs the way a shell does.
public enum ExecutableLookup {
    /// `name` itself when it holds a slash, else the first executable `name` on `PATH`; `nil` if none.
    public static func find(_ name: String, environment: [String: String]) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
