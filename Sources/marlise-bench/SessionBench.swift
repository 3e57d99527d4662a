import ArgumentParser
import Foundation
import Messaging
import Supervisor

/// `marlise-bench session`: `health_check` and `set_parameter` round trips through the session
/// service of a real default stack (supervisor, jackd dummy, marlise-host, marlise-bridge,
/// marlise-session, release builds), each beside its floor measured in the same run: raw libzmq
/// round trips, REQ clients against a trivial echo server. Every client is a blocking REQ socket on
/// a thread of its own (8 threads in this process for the 8-client rows); the pyzmq rows are the
/// reference's loop, its 8 clients 8 processes. Issue 17's goals are ratios to that floor.
struct SessionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session")

    @Option(help: "Timed calls per row and run: one client's, or all the concurrent clients' together.")
    var count = 3_000

    @Option(help: "Untimed calls before each row, in all (split among concurrent clients).")
    var warmUp = 200

    @Option(help: "Runs of every row; the figures printed are the medians over runs.")
    var runs = 5

    @Option(help: "Concurrent clients in the concurrent rows.")
    var clients = 8

    @Option(help: "The pyzmq script; skipped when python3 or pyzmq is missing.")
    var python = "Benchmarks/pyzmq_roundtrip.py"

    @Option(help: "The plugin loaded once per concurrent client for set_parameter, and its control.")
    var plugin = "http://plugin.org.uk/swh-plugins/amp"
    @Option var parameter = "gain"

    @Option(help: "set_parameter values cycle from here, in steps of 0.5, over 64 values.")
    var lowest = -16.0

    /// One row of the table: what it measures, on how many clients, and its goal against a floor.
    struct Row {
        var name: String
        var clients: Int
        /// The floor row (by index) its ratio is taken to, and the goal, if any.
        var floor: Int?
        var goal: Goal?
        var loads: [Load] = []
        var ratios: [Double] = []
        /// The same against the floor whose echo server is a process of its own.
        var crossRatios: [Double] = []
        /// Per run, each service's CPU time over the row's calls (warm-up included), µs a call.
        var cpu: [[String: Double]] = []
    }

    /// The services whose CPU each row reads from `/proc`.
    static let services = ["session", "bridge", "host", "jack"]

    enum Goal {
        /// p50 at most this many times the floor's p50.
        case latency(Double)
        /// Calls per second at least this fraction of the floor's, with p50 at most this many µs.
        case throughput(Double, p50: Double)

        var text: String {
            switch self {
            case .latency(let ratio): String(format: "p50 ≤ %.1f× floor", ratio)
            case .throughput(let ratio, let p50): String(format: "calls/s ≥ %.2f× floor, p50 ≤ %.0f µs", ratio, p50)
            }
        }
    }

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let load = readTextFile(atPath: "/proc/loadavg")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        let stack = try FullStack(bin: bin)
        defer { stack.remove() }
        // A JACK server name of this run's own: two benches at once never share a server.
        let config = "\(stack.folder)/marlise.toml"
        try String(contentsOfFile: config, encoding: .utf8)
            .replacingOccurrences(of: "server = \"marlise-bench\"", with: "server = \"marlise-bench-\(getpid())\"")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let supervisor = try await start(stack)
        defer { supervisor.signalGroup(SIGTERM) }
        let (instances, bridgeID) = try await loadInstances(stack)

        let endpoint = stack.session
        let n = clients
        var rows: [Row] = [
            Row(name: "raw libzmq REQ → echo (floor)", clients: 1),
            Row(name: "raw libzmq REQ → echo (floor), threads", clients: n),
            Row(name: "pyzmq REQ → REP, reference's shape", clients: 1, floor: 0),
            Row(name: "pyzmq REQ → REP, processes", clients: n, floor: 1),
            Row(name: "health_check", clients: 1, floor: 0, goal: .latency(1.5)),
            Row(name: "health_check", clients: n, floor: 1),
            Row(name: "set_parameter", clients: 1, floor: 0, goal: .latency(2.5)),
            Row(name: "set_parameter, a parameter each", clients: n, floor: 1, goal: .throughput(1.0 / 3, p50: 1000)),
            Row(
                name: "set_parameter, all on one parameter",
                clients: n,
                floor: 1,
                goal: .throughput(1.0 / 3, p50: 1000)
            ),
            Row(name: "bridge set_parameter (client → bridge → host)", clients: 1, floor: 0),
            Row(name: "raw libzmq REQ → echo process (floor)", clients: 1),
            Row(name: "raw libzmq REQ → echo process (floor), threads", clients: n),
        ]
        /// The cross-process floor row of a row's in-process floor.
        let crossFloor = [0: 10, 1: 11]
        print(
            """
            session: \(runs) runs; per row and run \(warmUp) untimed calls, then \(count) timed calls \
            (one client's, or \(n) clients' together); microseconds; medians over runs
            clients: blocking libzmq REQ sockets, one thread each (\(n) threads in this process); \
            pyzmq: \(n) processes against one REP process
            load before: \(load)
            """
        )
        let success = Data("\"success\":true".utf8)
        let health = RequestEnvelope(method: "health_check", sourceService: "bench").encoded()
        let symbol = parameter
        let lowest = lowest
        /// The `index`th value a client sends: 64 values in steps of 0.5, each client shifted.
        @Sendable func value(_ index: Int, client: Int) -> Double { lowest + Double((index + client * 8) % 64) * 0.5 }
        let calls = count + warmUp
        func setParameter(_ instance: @escaping @Sendable (Int) -> String) -> @Sendable (Int) -> [Data] {
            { client in
                (0..<calls).map { index in
                    RequestEnvelope(
                        method: "set_parameter",
                        params: [
                            "instance_id": .string(instance(client)), "parameter": .string(symbol),
                            "value": .double(value(index, client: client)),
                        ],
                        sourceService: "bench"
                    ).encoded()
                }
            }
        }
        let bridgeFrames: @Sendable (Int) -> [Data] = { client in
            (0..<calls).map { index in
                let request: JSONValue = [
                    "action": "plugin", "method": "set_parameter", "instance_id": .string(bridgeID),
                    "parameter": .string(symbol), "value": .double(value(index, client: client)),
                ]
                return request.serialized()
            }
        }

        let pids = try await stack.pids()
        print("services: " + pids.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let started = ContinuousClock.now
        for run in 0..<runs {
            func measure(
                _ row: Int,
                _ target: String,
                check: Bool = true,
                _ frames: @escaping @Sendable (Int) -> [Data]
            )
                async throws
            {
                let n = rows[row].clients
                let before = Self.services.map { pids[$0].map(cpuMicroseconds(pid:)) ?? 0 }
                defer {
                    let calls = Double((Swift.max(1, warmUp / n) + Swift.max(1, count / n)) * n)
                    let after = Self.services.map { pids[$0].map(cpuMicroseconds(pid:)) ?? 0 }
                    rows[row].cpu.append(
                        Dictionary(
                            uniqueKeysWithValues: Self.services.indices.map {
                                (Self.services[$0], (after[$0] - before[$0]) / calls)
                            }
                        )
                    )
                }
                rows[row].loads.append(
                    try await BlockingClients.run(
                        target,
                        clients: n,
                        warmUp: Swift.max(1, warmUp / n),
                        count: Swift.max(1, count / n),
                        success: check ? success : nil,
                        frames: frames
                    )
                )
            }
            let single = try await BlockingClients.echoServer(total: calls)
            try await measure(0, single, check: false) { _ in [health] }
            let many = try await BlockingClients.echoServer(total: (count / n + Swift.max(1, warmUp / n)) * n)
            try await measure(1, many, check: false) { _ in [health] }
            if let figures = pythonLoop(clients: nil) { rows[2].loads.append(figures) }
            if let figures = pythonLoop(clients: n) { rows[3].loads.append(figures) }
            try await measure(4, endpoint) { _ in [health] }
            try await measure(5, endpoint) { _ in [health] }
            try await measure(6, endpoint, setParameter { _ in instances[0] })
            try await measure(7, endpoint, setParameter { instances[$0 % instances.count] })
            try await measure(8, endpoint, setParameter { _ in instances[0] })
            try await measure(9, stack.bridge, bridgeFrames)
            for (row, total) in [(10, calls), (11, (count / n + Swift.max(1, warmUp / n)) * n)] {
                let (process, echo) = try BlockingClients.echoProcess(total: total)
                defer { process.waitUntilExit() }
                do {
                    try await measure(row, echo, check: false) { _ in [health] }
                } catch {
                    process.terminate()
                    throw error
                }
            }
            for index in rows.indices {
                guard let floor = rows[index].floor, rows[index].loads.count == run + 1,
                    let base = rows[floor].loads.last, let this = rows[index].loads.last
                else { continue }
                func ratio(_ base: Load) -> Double {
                    rows[index].clients == 1
                        ? this.figures.p50 / base.figures.p50 : this.callsPerSecond / base.callsPerSecond
                }
                rows[index].ratios.append(ratio(base))
                if let cross = crossFloor[floor], let crossBase = rows[cross].loads.last {
                    rows[index].crossRatios.append(ratio(crossBase))
                }
            }
            print("run \(run + 1) of \(runs) done, load \(Self.load())")
        }
        let elapsed = ContinuousClock.now - started

        print("")
        print(
            "row                                             clients      p50      p99      max    calls/s  failed"
                + "  ratio to floor (runs' range)   goal; then the same against the floor across processes"
        )
        for row in rows where !row.loads.isEmpty {
            let median = Figures.median(row.loads.map(\.figures))
            let rate = middle(row.loads.map(\.callsPerSecond))
            let failed = row.loads.map(\.failed).reduce(0, +)
            var line =
                row.name.padding(toLength: 48, withPad: " ", startingAt: 0)
                + String(format: "%7d ", row.clients) + median.formatted + String(format: " %10.0f %7d", rate, failed)
            if !row.ratios.isEmpty {
                let ratio = middle(row.ratios)
                let what = row.clients == 1 ? "p50" : "calls/s"
                line += String(
                    format: "  %@ %.2f× (%.2f–%.2f)",
                    what,
                    ratio,
                    row.ratios.min() ?? 0,
                    row.ratios.max() ?? 0
                )
                func met(_ ratio: Double) -> String {
                    guard let goal = row.goal else { return "" }
                    switch goal {
                    case .latency(let most): return ratio <= most ? " ✓" : " ✗"
                    case .throughput(let least, let p50): return ratio >= least && median.p50 <= p50 ? " ✓" : " ✗"
                    }
                }
                line = line.padding(toLength: 140, withPad: " ", startingAt: 0) + (row.goal?.text ?? "") + met(ratio)
                if !row.crossRatios.isEmpty {
                    let cross = middle(row.crossRatios)
                    line += String(format: "; across processes %@ %.2f×", what, cross) + met(cross)
                }
            }
            print(line)
        }
        print("")
        print("CPU per call of each service, µs (utime+stime from /proc over the row's calls, warm-up included)")
        print(
            "row                                             clients "
                + Self.services.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined() + "  all"
        )
        for row in rows
        where (row.floor != nil || row.name.hasPrefix("bridge")) && !row.cpu.isEmpty
            && row.name.range(of: "pyzmq") == nil
        {
            let values = Self.services.map { service in middle(row.cpu.map { $0[service] ?? 0 }) }
            print(
                row.name.padding(toLength: 48, withPad: " ", startingAt: 0) + String(format: "%7d ", row.clients)
                    + values.map { String(format: "%8.1f ", $0) }.joined()
                    + String(format: "%6.1f", values.reduce(0, +))
            )
        }
        print(
            "ratios: p50 / the floor's p50 for 1 client, calls/s / the floor's calls/s for \(n) clients; "
                + "each run's ratio against the floor measured in that run, median over runs"
        )
        let seconds = Double(elapsed.components.seconds)
        print(String(format: "took %.0f s; load after: %@", seconds, Self.load()))
        if rows.contains(where: { row in row.loads.contains { $0.failed > 0 } }) {
            throw ValidationError("some replies did not say success")
        }
    }

    /// Starts the stack, trying again (at most three times in all) when it is not ready within the
    /// 10 s it is given: on a loaded 2-core machine a start can take longer.
    func start(_ stack: FullStack) async throws -> ChildProcess {
        for attempt in 1...3 {
            do {
                return try await stack.start().0
            } catch  where attempt < 3 {
                print("the stack did not start (\(error)); trying again")
            }
        }
        throw ValidationError("unreachable")
    }

    /// A process's utime+stime, all its threads, in microseconds; 0 when it cannot be read.
    func cpuMicroseconds(pid: Int) -> Double {
        guard let stat = readTextFile(atPath: "/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else {
            return 0
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) * 1e6 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func load() -> String {
        readTextFile(atPath: "/proc/loadavg")?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// A fresh pedalboard with one `plugin` per concurrent client; returns the session's instance ids
    /// and the bridge's id of one of them (any will do for the bridge's row).
    func loadInstances(_ stack: FullStack) async throws -> ([String], String) {
        let setup = RPCClient(RPCClientConfiguration(endpoint: stack.session, timeout: .seconds(30)))
        _ = try await setup.call("create_pedalboard", params: ["name": "Bench"])
        var instances: [String] = []
        var numbers: [Int] = []
        for _ in 0..<Swift.max(1, clients) {
            let loaded = try await setup.call("add_plugin", params: ["uri": .string(plugin)])
            guard let instance = loaded["instance_id"]?.stringValue,
                let number = loaded["plugin"]?["host_instance"]?.intValue
            else {
                throw ValidationError("add_plugin: \(loaded.jsonText.prefix(300))")
            }
            instances.append(instance)
            numbers.append(number)
        }
        await setup.shutdown()
        // The bridge's id of the first instance: the one whose host number is the first's.
        let bridge = RPCClient(RPCClientConfiguration(endpoint: stack.bridge, timeout: .seconds(10)))
        let list: JSONValue = ["action": "plugin", "method": "list_instances"]
        let listed = try JSONValue(parsing: try await bridge.request(list.serialized()))
        await bridge.shutdown()
        let entries = listed["instances"]?.objectValue ?? [:]
        let first =
            entries.first { $0.value.jsonText.contains("\"instance_number\":\(numbers[0])") }?.key
            ?? entries.keys.sorted().first
        guard let first else { throw ValidationError("the bridge lists no instance: \(listed.jsonText.prefix(300))") }
        return (instances, first)
    }

    /// The pyzmq loop: one client in this process's child (`clients` nil), or `clients` processes.
    func pythonLoop(clients: Int?) -> Load? {
        let arguments = [String(count)] + (clients.map { [String($0)] } ?? [])
        guard let fields = MessagingBench.pythonFigures(python, arguments), fields.count >= 3 else { return nil }
        let figures = Figures(p50: fields[0], p99: fields[1], max: fields[2])
        return Load(figures: figures, callsPerSecond: fields.count > 3 ? fields[3] : 1e6 / fields[0], failed: 0)
    }
}
