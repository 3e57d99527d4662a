import Foundation
import Messaging
import TestSupport
import Testing

/// The whole default stack under a real `marlise-supervisor`, on free ports and a JACK server
/// name of its own, so it never meets a stack a developer is running.
final class Stack: @unchecked Sendable {  // Set up in init, then only read.
    struct Ports {
        var host = 0, hostFeedback = 0, bridge = 0, bridgeEvents = 0, bridgeHealth = 0
        var session = 0, sessionEvents = 0, http = 0, supervisor = 0, supervisorEvents = 0
    }

    let ports: Ports
    let folder: URL
    let jackServer: String
    let supervisor: TestProcess
    let session: RPCClient
    let bridge: RPCClient

    var logs: URL { folder.appendingPathComponent("logs") }
    var data: URL { folder.appendingPathComponent("data") }

    /// - Parameter quickProbes: liveness checked every 0.5 s, failed after 2 misses (for chaos).
    init(quickProbes: Bool = false) async throws {
        var ports = Ports()
        var taken: Set<Int> = []
        func pick() throws -> Int {
            while true {
                let port = try freePort()
                if taken.insert(port).inserted { return port }
            }
        }
        ports.host = try pick()
        ports.hostFeedback = try pick()
        ports.bridge = try pick()
        ports.bridgeEvents = try pick()
        ports.bridgeHealth = try pick()
        ports.session = try pick()
        ports.sessionEvents = try pick()
        ports.http = try pick()
        ports.supervisor = try pick()
        ports.supervisorEvents = try pick()
        self.ports = ports
        jackServer = freeJackServerName()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "marlise-stack-\(getpid())-\(ports.http)"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        let config = folder.appendingPathComponent("stack.toml")
        try Self.configuration(
            ports: ports,
            jackServer: jackServer,
            data: folder.appendingPathComponent("data").path,
            quickProbes: quickProbes
        )
        .write(to: config, atomically: true, encoding: .utf8)
        supervisor = try await TestProcess(
            product("marlise-supervisor"),
            ["--config", config.path, "--log-dir", folder.appendingPathComponent("logs").path],
            log: folder.appendingPathComponent("supervisor.out")
        )
        session = RPCClient(RPCClientConfiguration(endpoint: "tcp://127.0.0.1:\(ports.session)", timeout: .seconds(10)))
        bridge = RPCClient(RPCClientConfiguration(endpoint: "tcp://127.0.0.1:\(ports.bridge)", timeout: .seconds(10)))
        try await untilHealthy(within: .seconds(60))
    }

    static func configuration(ports: Ports, jackServer: String, data: String, quickProbes: Bool) -> String {
        let bridge = "tcp://127.0.0.1:\(ports.bridge)"
        let bridgeEvents = "tcp://127.0.0.1:\(ports.bridgeEvents)"
        let bridgeHealth = "tcp://127.0.0.1:\(ports.bridgeHealth)"
        var services: [(String, [String])] = [
            ("jack", []),
            ("host", []),
            (
                "bridge",
                [
                    """
                    env = ["MOD_HOST_PORT=\(ports.host)", "MOD_HOST_FEEDBACK_PORT=\(ports.hostFeedback)", \
                    "MODHOST_BRIDGE_REP=\(bridge)", "MODHOST_BRIDGE_PUB=\(bridgeEvents)", \
                    "MODHOST_BRIDGE_HEALTH=\(bridgeHealth)"]
                    """,
                    "alive = \"rpc:\(bridgeHealth)#health\"",
                ]
            ),
            (
                "session",
                [
                    """
                    args = ["--rpc", "tcp://127.0.0.1:\(ports.session)", "--pub", "tcp://127.0.0.1:\(ports.sessionEvents)"]
                    """,
                    """
                    env = ["MODHOST_BRIDGE_ENDPOINT=\(bridge)", "MODHOST_BRIDGE_PUB=\(bridgeEvents)", \
                    "MODHOST_BRIDGE_HEALTH=\(bridgeHealth)", "SESSION_MANAGER_DATA_DIR=\(data)"]
                    """,
                    "alive = \"rpc:tcp://127.0.0.1:\(ports.session)#echo\"",
                ]
            ),
        ]
        if quickProbes {
            for index in services.indices {
                services[index].1 += [
                    "probe_interval = 0.5", "probe_timeout = 0.5", "failure_threshold = 2", "max_restarts = 1000",
                ]
            }
        }
        let sections = services.filter { !$0.1.isEmpty }.map { name, lines in
            "[service.\(name)]\n" + lines.joined(separator: "\n") + "\n"
        }
        return """
            [jack]
            server = "\(jackServer)"

            [host]
            port = \(ports.host)
            feedback_port = \(ports.hostFeedback)

            [health]
            http = "127.0.0.1:\(ports.http)"
            rpc = "tcp://127.0.0.1:\(ports.supervisor)"
            events = "tcp://127.0.0.1:\(ports.supervisorEvents)"

            """ + sections.joined(separator: "\n")
    }

    /// Stops the supervisor with SIGTERM (it stops its children) and removes the folder.
    func stop() async throws -> Int32 {
        await session.shutdown()
        await bridge.shutdown()
        try await supervisor.stop(SIGTERM)
        try? FileManager.default.removeItem(at: folder)
        return supervisor.process.terminationStatus
    }

    /// `/health` as JSON, and its HTTP status.
    func health() async throws -> (Int, JSONValue) {
        let (status, body) = try await httpRequest("GET", "/health", port: UInt16(ports.http))
        return (status, try JSONValue(parsing: Data(body.utf8)))
    }

    /// A poll of `/health`, bounded by `deadline`: the stack is other processes, which announce
    /// nothing to this one.
    func untilHealthy(within deadline: Duration) async throws {
        try await eventually(within: deadline) {
            guard supervisor.process.isRunning else { return }
            let (status, report) = try await health()
            guard status == 200, report["status"] == "healthy" else {
                throw TestFailure("not healthy: \(report.jsonText.prefix(600))")
            }
        }
        guard supervisor.process.isRunning else { throw TestFailure("the supervisor exited: \(log("supervisor"))") }
    }

    /// A session call that must succeed; returns its result.
    @discardableResult
    func call(
        _ method: String,
        _ params: [String: JSONValue] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let result = try await session.call(method, params: params)
        #expect(result["success"] == true, "\(method): \(result.jsonText.prefix(400))", sourceLocation: sourceLocation)
        return result
    }

    /// A raw command passed by the bridge to the LV2 host: the host's own answer. `client`: another
    /// client of the bridge than the stack's own (one with a short timeout, for polling).
    func host(_ command: String, via client: RPCClient? = nil) async throws -> String {
        let reply = try JSONValue(
            parsing: try await (client ?? bridge).request(JSONValue.object(["command": .string(command)]).serialized())
        )
        return reply.jsonText
    }

    /// An audio action of the bridge (`{"action":"audio","method":…}`); its JSON reply.
    func bridgeAudio(
        _ method: String,
        _ fields: [String: JSONValue] = [:],
        via client: RPCClient? = nil
    )
        async throws -> JSONValue
    {
        var request = fields
        request["action"] = "audio"
        request["method"] = .string(method)
        return try JSONValue(parsing: try await (client ?? bridge).request(JSONValue.object(request).serialized()))
    }

    /// Clients of the session and the bridge that give up on a try after `timeout`: a request sent
    /// to a process just killed is lost, and polling must not wait the stack clients' 10 s for it.
    func pollingClients(timeout: Duration) -> (session: RPCClient, bridge: RPCClient) {
        (
            RPCClient(RPCClientConfiguration(endpoint: "tcp://127.0.0.1:\(ports.session)", timeout: timeout)),
            RPCClient(RPCClientConfiguration(endpoint: "tcp://127.0.0.1:\(ports.bridge)", timeout: timeout))
        )
    }

    func log(_ service: String) -> String {
        let file =
            service == "supervisor"
            ? folder.appendingPathComponent("supervisor.out") : logs.appendingPathComponent("\(service).log")
        return readTextFile(atPath: file.path) ?? ""
    }

    /// The PID the supervisor reports for `service`.
    func pid(_ service: String) async throws -> Int32? {
        let (_, report) = try await health()
        let entry = report["services"]?.arrayValue?.first { $0["name"] == .string(service) }
        return entry?["pid"]?.intValue.map(Int32.init)
    }
}
