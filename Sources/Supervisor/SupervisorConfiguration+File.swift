import Foundation
import Posix

#if canImport(Glibc)
import Glibc
#endif

extension SupervisorConfiguration {
    /// Applies a config file over this configuration. Syntax errors name the file and line; unknown
    /// sections or keys, wrong types and values out of range name the file and the key's dotted path:
    /// the supervisor refuses to start rather than guess.
    public mutating func apply(
        configFile path: String,
        environment: [String: String],
        ownExecutables: String
    )
        throws(ConfigFileError)
    {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(
                file: path,
                line: 0,
                key: nil,
                message: "cannot read: \(errnoText())",
                underlying: error
            )
        }
        try apply(configText: text, name: path, environment: environment, ownExecutables: ownExecutables)
    }

    /// ``apply(configFile:environment:ownExecutables:)`` on text already read; `name` is shown in errors.
    public mutating func apply(
        configText text: String,
        name: String,
        environment: [String: String],
        ownExecutables: String
    )
        throws(ConfigFileError)
    {
        let file = try ConfigFile(text: text, name: name)
        let reader = ConfigReader(file: name)
        // Settings the default services are built from come first, then the services are rebuilt,
        // then per-service overrides apply on top.
        for section in file.sections {
            switch section.name {
            case "jack":
                for entry in section.entries {
                    switch entry.key {
                    case "server": jack.server = try reader.name(entry)
                    case "driver": jack.driver = try reader.name(entry)
                    case "device": jack.device = try reader.string(entry)
                    case "rate": jack.rate = try reader.integer(entry, in: 1000...384_000)
                    case "period":
                        let period = try reader.integer(entry, in: 16...8192)
                        guard period & (period - 1) == 0 else { throw reader.error(entry, "must be a power of two") }
                        jack.period = period
                    default: throw reader.unknown(entry, in: section.name)
                    }
                }
            case "host":
                for entry in section.entries {
                    switch entry.key {
                    case "port": hostPort = try reader.integer(entry, in: 1...65535)
                    case "feedback_port": hostFeedbackPort = try reader.integer(entry, in: 1...65535)
                    default: throw reader.unknown(entry, in: section.name)
                    }
                }
            case "log":
                for entry in section.entries {
                    switch entry.key {
                    case "dir": logDirectory = try reader.string(entry)
                    case "max_bytes": logMaxBytes = try reader.integer(entry, in: 4096...Int.max)
                    case "keep": logKeep = try reader.integer(entry, in: 1...100)
                    default: throw reader.unknown(entry, in: section.name)
                    }
                }
            case "health":
                for entry in section.entries {
                    switch entry.key {
                    case "http": httpAddress = try reader.string(entry)
                    case "rpc": healthEndpoint = try reader.string(entry)
                    case "events": eventsEndpoint = try reader.string(entry)
                    default: throw reader.unknown(entry, in: section.name)
                    }
                }
            default:
                guard section.name.hasPrefix("service.") else {
                    throw ConfigFileError(
                        file: name,
                        line: 0,
                        key: section.name,
                        message: "unknown section [\(section.name)]; expected jack, host, log, health or service.<name>"
                    )
                }
            }
        }
        services = defaultServices(environment: environment, ownExecutables: ownExecutables)
        for section in file.sections where section.name.hasPrefix("service.") {
            let service = String(section.name.dropFirst("service.".count))
            guard !service.isEmpty, service.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ConfigFileError(
                    file: name,
                    line: 0,
                    key: section.name,
                    message: "'\(service)' is not a service name"
                )
            }
            var spec: ServiceSpec
            if let existing = services.first(where: { $0.name == service }) {
                spec = existing
            } else {
                guard let command = section.entries.first(where: { $0.key == "command" }) else {
                    throw ConfigFileError(
                        file: name,
                        line: 0,
                        key: "\(section.name).command",
                        message: "a new service needs a command"
                    )
                }
                spec = ServiceSpec(name: service, executable: try reader.string(command), readiness: .spawned)
                services.append(spec)
            }
            for entry in section.entries { try reader.apply(entry, to: &spec) }
            services[services.firstIndex { $0.name == service }!] = spec
        }
        try checkDependencies(file: name)
    }

    /// Every dependency names a service, and none depends on itself through others.
    private func checkDependencies(file: String) throws(ConfigFileError) {
        let names = Set(services.map(\.name))
        for spec in services {
            if let missing = spec.dependencies.first(where: { !names.contains($0) }) {
                throw ConfigFileError(
                    file: file,
                    line: 0,
                    key: "service.\(spec.name).depends",
                    message: "no service named '\(missing)'"
                )
            }
        }
        // Depth-first search for a cycle.
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if state[name] == 2 { return nil }
            if state[name] == 1 { return path.drop { $0 != name } + [name] }
            state[name] = 1
            path.append(name)
            for dependency in services.first(where: { $0.name == name })?.dependencies ?? [] {
                if let cycle = visit(dependency) { return cycle }
            }
            path.removeLast()
            state[name] = 2
            return nil
        }
        for spec in services {
            if let cycle = visit(spec.name) {
                throw ConfigFileError(
                    file: file,
                    line: 0,
                    key: "service.\(cycle[0]).depends",
                    message: "dependency cycle: \(cycle.joined(separator: " → "))"
                )
            }
        }
    }
}

/// Typed reads of config entries, each failure naming the key by its dotted path.
private struct ConfigReader {
    let file: String

    func error(_ entry: ConfigFile.Entry, _ message: String) -> ConfigFileError {
        ConfigFileError(file: file, line: 0, key: entry.path, message: message)
    }

    func unknown(_ entry: ConfigFile.Entry, in section: String) -> ConfigFileError {
        error(entry, "unknown key in [\(section)]")
    }

    func string(_ entry: ConfigFile.Entry) throws(ConfigFileError) -> String {
        guard case .string(let value) = entry.value else {
            throw error(entry, "expected a string, not \(entry.value.typeName)")
        }
        return value
    }

    /// A string usable as a name: not empty, no whitespace.
    func name(_ entry: ConfigFile.Entry) throws(ConfigFileError) -> String {
        let value = try string(entry)
        guard !value.isEmpty, !value.contains(where: \.isWhitespace) else {
            throw error(entry, "expected a name without spaces")
        }
        return value
    }

    func integer(_ entry: ConfigFile.Entry, in range: ClosedRange<Int>) throws(ConfigFileError) -> Int {
        guard case .integer(let value) = entry.value else {
            throw error(entry, "expected an integer, not \(entry.value.typeName)")
        }
        guard range.contains(value) else {
            throw error(entry, "\(value) is out of range \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    func bool(_ entry: ConfigFile.Entry) throws(ConfigFileError) -> Bool {
        guard case .bool(let value) = entry.value else {
            throw error(entry, "expected true or false, not \(entry.value.typeName)")
        }
        return value
    }

    func strings(_ entry: ConfigFile.Entry) throws(ConfigFileError) -> [String] {
        guard case .strings(let value) = entry.value else {
            throw error(entry, "expected an array of strings, not \(entry.value.typeName)")
        }
        return value
    }

    /// Seconds as an integer or a fraction, at least zero.
    func seconds(_ entry: ConfigFile.Entry) throws(ConfigFileError) -> Duration {
        let value: Double
        switch entry.value {
        case .integer(let integer): value = Double(integer)
        case .float(let float): value = float
        default: throw error(entry, "expected a number of seconds, not \(entry.value.typeName)")
        }
        guard value >= 0, value <= 86400 else { throw error(entry, "\(value) seconds is out of range 0…86400") }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    func probe(_ entry: ConfigFile.Entry) throws(ConfigFileError) -> Probe? {
        let text = try string(entry)
        if let probe = Probe(configText: text) { return probe }
        if text == "none" { return nil }
        throw error(
            entry,
            "'\(text)' is not a probe: spawned, notify, jack:<server>, tcp:<port>, rpc:<endpoint>#<method> or none"
        )
    }

    func apply(_ entry: ConfigFile.Entry, to spec: inout ServiceSpec) throws(ConfigFileError) {
        switch entry.key {
        case "command": spec.executable = try string(entry)
        case "args": spec.arguments = try strings(entry)
        case "env":
            var environment: [String: String] = [:]
            for item in try strings(entry) {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw error(entry, "'\(item)' is not KEY=VALUE")
                }
                environment[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
            spec.environment = environment
        case "cwd": spec.workingDirectory = try string(entry)
        case "depends": spec.dependencies = try strings(entry)
        case "ready":
            guard let probe = try probe(entry) else {
                throw error(entry, "readiness needs a probe; 'spawned' for none")
            }
            spec.readiness = probe
        case "alive": spec.liveness = try probe(entry)
        case "probe_interval": spec.probe.interval = try seconds(entry)
        case "probe_timeout": spec.probe.timeout = try seconds(entry)
        case "failure_threshold": spec.probe.failureThreshold = try integer(entry, in: 1...1000)
        case "start_timeout": spec.startTimeout = try seconds(entry)
        case "stop_timeout": spec.stopTimeout = try seconds(entry)
        case "stop_signal":
            let text = try string(entry)
            guard let number = Self.signals[text] else {
                throw error(entry, "'\(text)' is not one of \(Self.signals.keys.sorted().joined(separator: ", "))")
            }
            spec.stopSignal = number
        case "restart_delay": spec.restart.initialDelay = try seconds(entry)
        case "restart_max_delay": spec.restart.maxDelay = try seconds(entry)
        case "start_seconds": spec.restart.startSeconds = try seconds(entry)
        case "restart_window": spec.restart.window = try seconds(entry)
        case "max_restarts": spec.restart.maxRestarts = try integer(entry, in: 1...10000)
        case "required": spec.required = try bool(entry)
        case "audio_path": spec.audioPath = try bool(entry)
        case "reports_board": spec.reportsBoard = try bool(entry)
        default: throw unknown(entry, in: "service.\(spec.name)")
        }
    }

    static let signals: [String: Int32] = [
        "SIGTERM": SIGTERM, "SIGINT": SIGINT, "SIGHUP": SIGHUP, "SIGQUIT": SIGQUIT, "SIGUSR1": SIGUSR1,
        "SIGUSR2": SIGUSR2, "SIGKILL": SIGKILL,
    ]
}

extension Probe {
    /// Reads the config file's spelling: `spawned`, `notify`, `jack:<server>`, `tcp:<port>`,
    /// `rpc:<endpoint>#<method>`, `modhost:<port>`.
    init?(configText text: String) {
        if text == "spawned" {
            self = .spawned
        } else if text == "notify" {
            self = .notify
        } else if text.hasPrefix("jack:"), text.count > 5 {
            self = .jack(server: String(text.dropFirst(5)))
        } else if text.hasPrefix("tcp:"), let port = Int(text.dropFirst(4)), (1...65535).contains(port) {
            self = .tcp(port: port)
        } else if text.hasPrefix("modhost:"), let port = Int(text.dropFirst(8)), (1...65535).contains(port) {
            self = .modhost(port: port)
        } else if text.hasPrefix("rpc:"), let hash = text.lastIndex(of: "#") {
            let endpoint = String(text[text.index(text.startIndex, offsetBy: 4)..<hash])
            let method = String(text[text.index(after: hash)...])
            guard !endpoint.isEmpty, !method.isEmpty else { return nil }
            self = .rpc(endpoint: endpoint, method: method)
        } else {
            return nil
        }
    }
}
