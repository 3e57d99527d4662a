import ArgumentParser
import Foundation
import Messaging

@main
struct MarliseBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-bench",
        abstract: "Benchmarks that print figures (medians over runs; these machines are noisy).",
        subcommands: [
            MessagingBench.self, SupervisorBench.self, SessionBench.self, StackBench.self, BridgeBench.self,
            ScaleBench.self,
            SoakBench.self, EchoServer.self,
        ]
    )
}

/// `marlise-bench messaging`: sequential request/reply round trips over tcp://127.0.0.1 through raw
/// libzmq (the floor), through our RPC client and server, and through pyzmq (the reference's stack).
struct MessagingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "messaging")

    @Option(help: "Round trips per run.")
    var count = 10_000

    @Option(help: "Runs of each; the figures printed are the medians over runs.")
    var runs = 5

    @Option(help: "The pyzmq script; skipped when python3 or pyzmq is missing.")
    var python = "Benchmarks/pyzmq_roundtrip.py"

    func run() async throws {
        print("messaging: \(count) sequential round trips per run, \(runs) runs, microseconds (median over runs)")
        var table: [(String, [Figures])] = [
            ("raw libzmq", []), ("marlise RPC", []), ("our server", []), ("our client", []), ("pyzmq", []),
        ]
        // Callers run as ordinary tasks on the cooperative pool: a caller on the main actor would pay
        // a hop to the main thread on every reply.
        for _ in 0..<runs {
            table[0].1.append(try await rawRoundTrips())
            table[1].1.append(try await Task.detached { try await self.rpcRoundTrips() }.value)
            table[2].1.append(try await serverOnly())
            table[3].1.append(try await Task.detached { try await self.clientOnly() }.value)
            if let figures = pythonRoundTrips() { table[4].1.append(figures) }
        }
        print("name            p50      p99      max")
        var medians: [String: Figures] = [:]
        for (name, figures) in table where !figures.isEmpty {
            let median = Figures.median(figures)
            medians[name] = median
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0), median.formatted)
        }
        if let raw = medians["raw libzmq"], let ours = medians["marlise RPC"] {
            print(String(format: "marlise RPC / raw libzmq p50: %.2fx", ours.p50 / raw.p50))
        }
        if let python = medians["pyzmq"], let ours = medians["marlise RPC"] {
            print(String(format: "pyzmq / marlise RPC p50: %.2fx", python.p50 / ours.p50))
        }
    }

    /// The same request and reply bytes as the RPC run, on blocking sockets with no envelope work.
    func rawRoundTrips(count: Int? = nil) async throws -> Figures {
        let request = RequestEnvelope(method: "health_check", sourceService: "bench").encoded()
        let count = count ?? self.count
        let bound = await rawReplier(count: count)
        return try await measureOnThread(count: count) {
            let socket = try ZMQSocket(.req)
            try socket.connect(bound)
            return {
                _ = try socket.send([request])
                _ = try socket.receive()
            }
        }
    }

    /// A raw blocking REQ client against our server: what the server adds.
    func serverOnly() async throws -> Figures {
        var router = RPCRouter()
        router.register("health_check") { _ in ["success": true, "healthy": true] }
        let server = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: router)
        let request = RequestEnvelope(method: "health_check", sourceService: "bench").encoded()
        let bound = server.endpoint
        let figures = try await measureOnThread(count: count) {
            let socket = try ZMQSocket(.req)
            try socket.connect(bound)
            return {
                _ = try socket.send([request])
                _ = try socket.receive()
            }
        }
        await server.shutdown()
        return figures
    }

    /// Our client against a raw blocking REP server: what the client adds.
    func clientOnly() async throws -> Figures {
        let client = RPCClient(RPCClientConfiguration(endpoint: await rawReplier()))
        let clock = ContinuousClock()
        var samples: [Duration] = []
        for index in 0..<(count + 200) {
            let start = clock.now
            _ = try await client.call("health_check")
            if index >= 200 { samples.append(clock.now - start) }
        }
        await client.shutdown()
        return Figures(samples)
    }

    func rpcRoundTrips() async throws -> Figures {
        var router = RPCRouter()
        router.register("health_check") { _ in ["success": true, "healthy": true] }
        let server = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: router)
        let client = RPCClient(RPCClientConfiguration(endpoint: server.endpoint))
        let clock = ContinuousClock()
        var samples: [Duration] = []
        samples.reserveCapacity(count)
        for index in 0..<(count + 200) {
            let start = clock.now
            _ = try await client.call("health_check")
            if index >= 200 { samples.append(clock.now - start) }
        }
        await client.shutdown()
        await server.shutdown()
        return Figures(samples)
    }

    func pythonRoundTrips() -> Figures? {
        guard let fields = Self.pythonFigures(python, [String(count)]), fields.count == 3 else { return nil }
        return Figures(p50: fields[0], p99: fields[1], max: fields[2])
    }

    /// Runs the pyzmq loop with `arguments` and reads the numbers it prints; `nil` if it failed.
    static func pythonFigures(_ script: String, _ arguments: [String]) -> [Double]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: " ").compactMap {
            Double($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// A blocking REP socket on its own thread answering every run's requests with a fixed reply;
    /// returns its endpoint.
    func rawReplier(count: Int? = nil) async -> String {
        let reply = ReplyEnvelope(requestID: "x", outcome: .success(["success": true, "healthy": true])).encoded()
        let count = count ?? self.count
        let endpoint = OneShot<String>()
        Thread {
            guard let socket = try? ZMQSocket(.rep), (try? socket.bind("tcp://127.0.0.1:*")) != nil,
                let bound = try? socket.lastEndpoint()
            else { return endpoint.fulfil("") }
            endpoint.fulfil(bound)
            for _ in 0..<(count + 200) {
                guard (try? socket.receive()) != nil, (try? socket.send([reply])) != nil else { return }
            }
        }.start()
        return (try? await endpoint.value) ?? ""
    }

    /// Runs `setUp` and then `count` timed iterations of what it returns on a thread of its own.
    func measureOnThread(count: Int, setUp: @Sendable @escaping () throws -> () throws -> Void) async throws -> Figures
    {
        try await onThread {
            let iteration = try setUp()
            let clock = ContinuousClock()
            var samples: [Duration] = []
            samples.reserveCapacity(count)
            for index in 0..<(count + 200) {
                let start = clock.now
                try iteration()
                if index >= 200 { samples.append(clock.now - start) }
            }
            return Figures(samples)
        }
    }
}

/// Latency percentiles in microseconds.
struct Figures: Sendable {
    var p50: Double
    var p99: Double
    var max: Double

    init(p50: Double, p99: Double, max: Double) {
        self.p50 = p50
        self.p99 = p99
        self.max = max
    }

    init(_ samples: [Duration]) {
        let sorted = samples.map { Double($0.components.attoseconds) / 1e12 + Double($0.components.seconds) * 1e6 }
            .sorted()
        func pick(_ quantile: Double) -> Double {
            sorted[Swift.min(sorted.count - 1, Int(quantile * Double(sorted.count)))]
        }
        self.init(p50: pick(0.5), p99: pick(0.99), max: sorted.last ?? 0)
    }

    static func median(_ runs: [Figures]) -> Figures {
        func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Figures(p50: middle(runs.map(\.p50)), p99: middle(runs.map(\.p99)), max: middle(runs.map(\.max)))
    }

    var formatted: String {
        [p50, p99, max].map { String(format: "%8.1f", $0) }.joined(separator: " ")
    }
}
