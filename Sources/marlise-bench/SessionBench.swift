import ArgumentParser
import Foundation
import Messaging
import SessionService

/// `marlise-bench session`: `health_check` and `set_parameter` round trips through a real session
/// service, sequential and with concurrent clients, beside raw libzmq REQ/REP (the wire's floor).
///
/// Without `--bridge`, no bridge is reachable: `set_parameter` then measures the fail-fast path
/// (BRIDGE_ERROR), which is what a client sees while the audio side is down.
struct SessionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session")

    @Option(help: "Round trips per client per run.")
    var count = 5_000

    @Option(help: "Runs of each; the figures printed are the medians over runs.")
    var runs = 3

    @Option(help: "Concurrent clients in the concurrent runs.")
    var clients = 8

    @Option(help: "The bridge's REP endpoint (with --bridge-health and --bridge-pub); none by default.")
    var bridge: String?

    @Option var bridgeHealth = "tcp://127.0.0.1:6002"
    @Option var bridgePub = "tcp://127.0.0.1:6001"

    @Option(help: "The plugin to load for set_parameter, and its control.")
    var plugin = "http://plugin.org.uk/swh-plugins/amp"
    @Option var parameter = "gain"

    func run() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("session-bench-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = SessionConfiguration()
        configuration.dataDirectory = data
        configuration.bridgeEndpoint = bridge ?? "tcp://127.0.0.1:1"
        configuration.bridgeHealthEndpoint = bridge == nil ? "tcp://127.0.0.1:1" : bridgeHealth
        configuration.bridgeEventsEndpoint = bridge == nil ? "tcp://127.0.0.1:1" : bridgePub
        let server = try await SessionServer.start(
            configuration,
            rpcEndpoint: "tcp://127.0.0.1:*",
            pubEndpoint: "tcp://127.0.0.1:*"
        )
        let setup = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint))
        _ = try await setup.call("create_pedalboard", params: ["name": "Bench"])
        let loaded = try await setup.call("load_plugin", params: ["uri": .string(plugin)])
        let instance = loaded["instance_id"]?.stringValue
        await setup.shutdown()
        let setLabel = instance == nil ? "set_parameter (no bridge: BRIDGE_ERROR)" : "set_parameter"

        print("session: \(count) round trips per client per run, \(runs) runs, microseconds (median over runs)")
        if instance == nil { print("load_plugin: \(loaded["error"]?.stringValue ?? "?") — set_parameter fails fast") }
        var table: [(String, [Figures])] = [
            ("raw libzmq floor", []), ("health_check", []), ("health_check x\(clients)", []), (setLabel, []),
            ("\(setLabel) x\(clients)", []),
        ]
        let messaging = MessagingBench()
        let setParams: [String: JSONValue] = [
            "instance_id": .string(instance ?? "plugin_0"), "parameter": .string(parameter), "value": 1.5,
        ]
        for _ in 0..<runs {
            table[0].1.append(try await messaging.rawRoundTrips(count: count))
            table[1].1.append(try await calls(server.rpc.endpoint, "health_check", [:], clients: 1))
            table[2].1.append(try await calls(server.rpc.endpoint, "health_check", [:], clients: clients))
            table[3].1.append(try await calls(server.rpc.endpoint, "set_parameter", setParams, clients: 1))
            table[4].1.append(try await calls(server.rpc.endpoint, "set_parameter", setParams, clients: clients))
        }
        print("name                                          p50      p99      max")
        for (name, figures) in table {
            print(name.padding(toLength: 40, withPad: " ", startingAt: 0), Figures.median(figures).formatted)
        }
        await server.shutdown()
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
