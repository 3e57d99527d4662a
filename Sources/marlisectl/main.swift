import ArgumentParser
import Foundation
import Health
import Messaging

@main
struct Marlisectl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlisectl",
        abstract: "Operate a running Marlise stack: its health, its services' logs, RPC calls.",
        subcommands: [Status.self, HealthCheck.self, Restart.self, Logs.self, Call.self, Ports.self]
    )
}

/// Where the supervisor answers, shared by the commands that ask it.
struct SupervisorOptions: ParsableArguments {
    @Option(help: "The supervisor's health endpoint.")
    var supervisor = "tcp://127.0.0.1:5690"

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Calls the supervisor; a supervisor that is not running is one clear line and exit 2.
    func call(_ method: String, params: [String: JSONValue] = [:]) async throws -> JSONValue {
        let client = RPCClient(RPCClientConfiguration(endpoint: supervisor, timeout: .seconds(2)))
        defer { Task { await client.shutdown() } }
        do {
            return try await client.call(method, params: params)
        } catch  where error.code == .timeout || error.code == .transportError {
            fail("the supervisor is not answering at \(supervisor) (is marlise-supervisor running?)", code: 2)
        } catch {
            fail(error.message, code: 1)
        }
    }
}

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("marlisectl: \(message)\n".utf8))
    exit(code)
}

func printJSON(_ value: JSONValue) {
    print(String(decoding: value.serialized(sortedKeys: true), as: UTF8.self))
}

/// `marlisectl status` — a table of every service.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each service: state, pid, uptime, restarts, last exit."
    )

    @OptionGroup var options: SupervisorOptions

    func run() async throws {
        let health = try await options.call("health_check")
        if options.json { printJSON(health) } else { print(HealthTable.render(health), terminator: "") }
    }
}

/// `marlisectl health` — for scripts: exit 0 healthy, 1 degraded, 2 anything else.
struct HealthCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Print the stack's status; exit 0 healthy, 1 degraded, 2 otherwise."
    )

    @OptionGroup var options: SupervisorOptions

    func run() async throws {
        let health = try await options.call("health_check")
        let status = health["status"]?.stringValue ?? "unknown"
        if options.json { printJSON(["status": .string(status)]) } else { print(status) }
        switch status {
        case "healthy": return
        case "degraded": throw ExitCode(1)
        default: throw ExitCode(2)
        }
    }
}

/// `marlisectl restart bridge` — the service and what depends on it start again.
struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart a service (and what depends on it).")

    @Argument(help: "The service: jack, host, bridge, session.")
    var service: String

    @OptionGroup var options: SupervisorOptions

    func run() async throws {
        let result = try await options.call("restart_service", params: ["name": .string(service)])
        if options.json { printJSON(result) } else { print("\(service): restarting") }
    }
}

/// `marlisectl logs session -f` — a service's log file.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a service's log (supervisor for the supervisor's own)."
    )

    @Argument(
        help: "The service (session, bridge, host, jack) or its log's name (session-manager, ...), or supervisor."
    )
    var service: String

    @Flag(name: .shortAndLong, help: "Keep printing lines as they are written.")
    var follow = false

    @Option(help: "The log folder (default: ask the running supervisor where it writes them).")
    var logDir: String?

    @Option(help: "The supervisor's health endpoint, asked for the log folder.")
    var supervisor = "tcp://127.0.0.1:5690"

    @Flag(help: "Print each line as a JSON object.")
    var json = false

    func run() async throws {
        guard service.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            fail("'\(service)' is not a service name", code: 64)
        }
        let path = try await logPath()
        guard let handle = FileHandle(forReadingAtPath: path) else { fail("no log at \(path)", code: 1) }
        var pending = Data()
        func emit(_ data: Data) {
            pending.append(data)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                if json {
                    let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                    printJSON([
                        "at": .string(parts.first ?? ""), "stream": .string(parts.count > 1 ? parts[1] : ""),
                        "line": .string(parts.count > 2 ? parts[2] : ""),
                    ])
                } else {
                    print(line)
                }
            }
        }
        emit(handle.readDataToEndOfFile())
        while follow {
            try await Task.sleep(for: .milliseconds(200))
            emit(handle.readDataToEndOfFile())
        }
    }
}

extension Logs {
    /// `--log-dir` if given; else where the running supervisor says; else `logs/` here. The service
    /// may be given by its name or its log file's stem: the supervisor knows both, and without one
    /// the stack's default names are used.
    func logPath() async throws -> String {
        let file = "\(ServiceLogNames.stem(ofService: service)).log"
        if let logDir { return "\(logDir)/\(file)" }
        let client = RPCClient(RPCClientConfiguration(endpoint: supervisor, timeout: .seconds(2)))
        let answer = try? await client.call("log_path", params: ["name": .string(service)])
        await client.shutdown()
        return answer?["path"]?.stringValue ?? "logs/\(file)"
    }
}

/// `marlisectl call health_check` — one request in the Marlise envelope; prints the result as JSON.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call an RPC method of the session service.")

    @Argument(help: "The method, e.g. health_check.")
    var method: String

    @Argument(help: "Parameters as a JSON object.")
    var params = "{}"

    @Option(help: "Endpoint to call; defaults to the session manager's.")
    var endpoint = ServicePorts(service: "session_manager").rpcEndpoint

    @Option(help: "Seconds to wait for the reply.")
    var timeout = 5.0

    func run() async throws {
        guard case .object(let object) = try JSONValue(parsing: params) else {
            throw ValidationError("params must be a JSON object")
        }
        let client = RPCClient(
            RPCClientConfiguration(endpoint: endpoint, timeout: .milliseconds(Int64(timeout * 1000)))
        )
        defer { Task { await client.shutdown() } }
        do {
            printJSON(try await client.call(method, params: object))
        } catch  where error.code == .timeout || error.code == .transportError {
            fail("nothing answers at \(endpoint) (is the stack running?)", code: 2)
        } catch {
            fail("\(error)", code: 1)
        }
    }
}

/// `marlisectl ports session_manager` — the ports a Marlise service derives from its name.
struct Ports: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the RPC/PUB/SUB ports of a service name.")

    @Argument(help: "The service name, e.g. session_manager.")
    var service: String

    @Option(help: "Base port of the derivation.")
    var base = ServicePorts.defaultBase

    func run() {
        let ports = ServicePorts(service: service, base: base)
        print("rpc \(ports.rpc) pub \(ports.pub) sub \(ports.sub)")
    }
}
