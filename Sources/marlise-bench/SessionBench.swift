import ArgumentParser
import Foundation
import Messaging

/// `marlise-bench session`: `health_check` and `set_parameter` round trips through the session
/// service of a real default stack (supervisor, jackd dummy, marlise-host, marlise-bridge,
/// marlise-session, release builds), sequential and with concurrent clients, in one run beside raw
/// libzmq REQ/REP (the wire's floor) and a pyzmq REQ/REP loop of the same shape (the reference's).
struct SessionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session")

    @Option(help: "Round trips per client per run.")
    var count = 5_000

    @Option(help: "Runs of each; the figures printed are the medians over runs.")
    var runs = 3

    @Option(help: "Concurrent clients in the concurrent runs.")
    var clients = 8

    @Option(help: "The pyzmq script; skipped when python3 or pyzmq is missing.")
    var python = "Benchmarks/pyzmq_roundtrip.py"

    @Option(help: "The plugin to load for set_parameter, and its control.")
    var plugin = "http://plugin.org.uk/swh-plugins/amp"
    @Option var parameter = "gain"

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let stack = try FullStack(bin: bin)
        defer { stack.remove() }
        let (supervisor, _) = try await stack.start()
        defer { supervisor.signalGroup(SIGTERM) }
        let endpoint = stack.session
        let setup = RPCClient(RPCClientConfiguration(endpoint: endpoint, timeout: .seconds(10)))
        _ = try await setup.call("create_pedalboard", params: ["name": "Bench"])
        let loaded = try await setup.call("load_plugin", params: ["uri": .string(plugin)])
        await setup.shutdown()
        guard let instance = loaded["instance_id"]?.stringValue else {
            throw ValidationError("load_plugin: \(loaded.jsonText.prefix(300))")
        }

        print("session: \(count) round trips per client per run, \(runs) runs, microseconds (median over runs)")
        var table: [(String, [Figures])] = [
            ("raw libzmq floor", []), ("pyzmq REQ/REP, reference's shape", []), ("health_check", []),
            ("health_check x\(clients)", []), ("set_parameter", []), ("set_parameter x\(clients)", []),
            ("bridge set_parameter (floor)", []), ("health_check, blocking REQ client", []),
            ("set_parameter, blocking REQ client", []),
        ]
        // The bridge alone (client → bridge → host), the floor under the session's set_parameter.
        let bridge = RPCClient(RPCClientConfiguration(endpoint: stack.bridge))
        let list: JSONValue = ["action": "plugin", "method": "list_instances"]
        let listed = try JSONValue(parsing: try await bridge.request(list.serialized()))
        await bridge.shutdown()
        guard let bridgeID = listed["instances"]?.objectValue?.keys.first else {
            throw ValidationError("the bridge lists no instance: \(listed.jsonText.prefix(300))")
        }
        let direct: JSONValue = [
            "action": "plugin", "method": "set_parameter", "instance_id": .string(bridgeID),
            "parameter": .string(parameter), "value": 1.5,
        ]
        var messaging = MessagingBench()
        messaging.count = count
        messaging.python = python
        let setParams: [String: JSONValue] = [
            "instance_id": .string(instance), "parameter": .string(parameter), "value": 1.5,
        ]
        for _ in 0..<runs {
            table[0].1.append(try await messaging.rawRoundTrips(count: count))
            if let figures = messaging.pythonRoundTrips() { table[1].1.append(figures) }
            table[2].1.append(try await calls(endpoint, "health_check", [:], clients: 1))
            table[3].1.append(try await calls(endpoint, "health_check", [:], clients: clients))
            table[4].1.append(try await calls(endpoint, "set_parameter", setParams, clients: 1))
            table[5].1.append(try await calls(endpoint, "set_parameter", setParams, clients: clients))
            table[6].1.append(try await raw(stack.bridge, direct.serialized()))
            // What the session itself costs: the client's side as thin as libzmq's REQ socket.
            table[7].1.append(try await blocking(messaging, endpoint, RequestEnvelope(method: "health_check")))
            table[8].1.append(
                try await blocking(messaging, endpoint, RequestEnvelope(method: "set_parameter", params: setParams))
            )
        }
        print("name                                          p50      p99      max")
        var medians: [String: Figures] = [:]
        for (name, figures) in table where !figures.isEmpty {
            medians[name] = Figures.median(figures)
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0), medians[name]!.formatted)
        }
        if let floor = medians["raw libzmq floor"], let health = medians["health_check"] {
            print(String(format: "health_check / raw libzmq p50: %.2fx", health.p50 / floor.p50))
        }
        if let python = medians["pyzmq REQ/REP, reference's shape"], let health = medians["health_check"] {
            print(String(format: "pyzmq loop / health_check p50: %.2fx", python.p50 / health.p50))
            print(String(format: "Python reference health_check (11.3 ms) / ours p50: %.0fx", 11_300 / health.p50))
        }
    }

    /// A blocking libzmq REQ socket on a thread of its own sending `request` `count` times in a row.
    func blocking(_ messaging: MessagingBench, _ endpoint: String, _ request: RequestEnvelope) async throws -> Figures {
        let frame = request.encoded()
        return try await messaging.measureOnThread(count: count) {
            let socket = try ZMQSocket(.req)
            try socket.connect(endpoint)
            return {
                _ = try socket.send([frame])
                _ = try socket.receive()
            }
        }
    }

    /// One client sending `request` as is, `count` times in a row.
    func raw(_ endpoint: String, _ request: Data) async throws -> Figures {
        let client = RPCClient(RPCClientConfiguration(endpoint: endpoint))
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for index in 0..<(count + 200) {
            let start = clock.now
            _ = try await client.request(request)
            if index >= 200 { samples.append(clock.now - start) }
        }
        await client.shutdown()
        return Figures(samples)
    }

    /// `clients` clients, each calling `count` times in a row (after 200 warm-up calls); every
    /// sample of every client in one set.
    func calls(
        _ endpoint: String,
        _ method: String,
        _ params: [String: JSONValue],
        clients: Int
    ) async throws
        -> Figures
    {
        let count = count
        let samples = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    let client = RPCClient(RPCClientConfiguration(endpoint: endpoint))
                    let clock = ContinuousClock()
                    var samples: [Duration] = []
                    samples.reserveCapacity(count)
                    for index in 0..<(count + 200) {
                        let start = clock.now
                        _ = try await client.call(method, params: params)
                        if index >= 200 { samples.append(clock.now - start) }
                    }
                    await client.shutdown()
                    return samples
                }
            }
            var all: [Duration] = []
            for try await samples in group { all += samples }
            return all
        }
        return Figures(samples)
    }
}
