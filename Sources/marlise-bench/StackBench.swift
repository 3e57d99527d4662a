import ArgumentParser
import Foundation
import Messaging
import Supervisor

#if canImport(Glibc)
import Glibc
#endif

/// `marlise-bench stack`: the whole default stack (jackd, marlise-host, marlise-bridge,
/// marlise-session) under the real supervisor, with a loaded pedalboard, measured from outside.
struct StackBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stack")

    @Option(help: "Runs; medians are printed.")
    var runs = 5

    @Option(help: "Plugins on the pedalboard whose recovery is timed.")
    var plugins = 10

    @Option(help: "Plugins loaded for the session's memory figure.")
    var manyPlugins = 50

    @Option(help: "Seconds over which the idle supervisor's CPU use is measured (last run).")
    var idleSeconds = 30

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        print(
            "stack: jackd dummy, marlise-host, marlise-bridge, marlise-session; \(plugins)-plugin pedalboard; \(runs) runs"
        )
        var starts: [Double] = []
        var back: [String: [Double]] = [:]
        var resynced: [String: [Double]] = [:]
        var idle: (cpu: Double, rss: Int, anonymous: Int)?
        var sessionRSS: Int?
        for run in 0..<runs {
            let stack = try FullStack(bin: bin)
            let supervisor: ChildProcess
            let startup: Double
            do {
                (supervisor, startup) = try await stack.start()
            } catch {
                print("run \(run + 1) failed to start: \(error); logs kept in \(stack.folder)/logs")
                throw error
            }
            var phase = "loading the pedalboard"
            do {
                starts.append(startup)
                let rig = try await stack.loadPedalboard(plugins: plugins)
                for service in ["jack", "host", "bridge", "session"] {
                    phase = "recovery of \(service)"
                    let (ready, inHost) = try await stack.recovery(of: service, rig: rig)
                    back[service, default: []].append(ready)
                    resynced[service, default: []].append(inHost)
                }
                if run == runs - 1 {
                    phase = "idle"
                    idle = try await stack.idle(seconds: idleSeconds, pid: supervisor.pid)
                    phase = "loading \(manyPlugins) plugins"
                    _ = try await stack.loadPedalboard(plugins: manyPlugins)
                    sessionRSS = try await stack.residentKiB(of: "session")
                }
            } catch {
                supervisor.signalGroup(SIGTERM)
                _ = try? await supervisor.exitStatus
                // The logs are what tells why: kept.
                print("run \(run + 1) failed while \(phase): \(error); logs kept in \(stack.folder)/logs")
                throw error
            }
            supervisor.signalGroup(SIGTERM)
            _ = try? await supervisor.exitStatus
            stack.remove()
        }
        print(
            String(
                format: "cold start to READY=1 (whole stack): median %.0f ms (runs: %@)",
                median(starts),
                list(starts)
            )
        )
        for service in ["jack", "host", "bridge", "session"] {
            print(
                String(
                    format:
                        "kill -9 %@: healthy again median %.0f ms (runs: %@); pedalboard back in the host median %.0f ms (runs: %@)",
                    service,
                    median(back[service] ?? [0]),
                    list(back[service] ?? []),
                    median(resynced[service] ?? [0]),
                    list(resynced[service] ?? [])
                )
            )
        }
        if let idle {
            print(
                String(
                    format: "supervisor idle over %d s: %.2f %% of a core; RSS %.1f MB (%.1f MB private)",
                    idleSeconds,
                    idle.cpu,
                    Double(idle.rss) / 1024,
                    Double(idle.anonymous) / 1024
                )
            )
        }
        if let sessionRSS {
            print(String(format: "session RSS with %d plugins loaded: %.1f MB", manyPlugins, Double(sessionRSS) / 1024))
        }
    }
}

/// The default stack on ports and a JACK server name of its own.
final class FullStack {
    let bin: String
    let folder: String
    let health: String
    let session: String
    let bridge: String
    let notify: String
    private let inner: BenchStack

    init(bin: String) throws {
        self.bin = bin
        inner = try BenchStack(bin: bin)
        folder = inner.folder
        health = inner.health
        notify = inner.notify
        let ports = (0..<8).map { _ in Int.random(in: 20000...40000) }
        session = "tcp://127.0.0.1:\(ports[0])"
        bridge = "tcp://127.0.0.1:\(ports[1])"
        try StackConfig(
            folder: folder,
            jackServer: "marlise-bench",
            hostPort: ports[5],
            hostFeedbackPort: ports[6],
            httpPort: ports[7],
            healthRPC: health,
            healthEvents: inner.events,
            session: session,
            bridge: bridge,
            bridgeEvents: "tcp://127.0.0.1:\(ports[2])",
            bridgeHealth: "tcp://127.0.0.1:\(ports[3])"
        ).write()
    }

    func start() async throws -> (ChildProcess, Double) { try await inner.start() }
    func idle(seconds: Int, pid: Int32) async throws -> (Double, Int, Int) {
        try await inner.idle(seconds: seconds, pid: pid)
    }
    func remove() { inner.remove() }

    /// A fresh pedalboard of `plugins` plugins (swh amp and mda Overdrive in turn), each with a
    /// value set; returns each plugin's host number, control and value.
    func loadPedalboard(plugins: Int) async throws -> [(number: Int, symbol: String, value: Double)] {
        let client = RPCClient(RPCClientConfiguration(endpoint: session, timeout: .seconds(30)))
        defer { Task { await client.shutdown() } }
        _ = try await client.call("create_pedalboard", params: ["name": "Bench"])
        var rig: [(Int, String, Double)] = []
        for index in 0..<plugins {
            let (uri, symbol, value) =
                index.isMultiple(of: 2)
                ? ("http://plugin.org.uk/swh-plugins/amp", "gain", Double(index % 20) - 9.5)
                : ("http://drobilla.net/plugins/mda/Overdrive", "drive", Double(index % 10) / 10 + 0.05)
            let added = try await client.call("add_plugin", params: ["uri": .string(uri)])
            guard let id = added["instance_id"]?.stringValue, let number = added["plugin"]?["host_instance"]?.intValue
            else { throw ValidationError("add_plugin: \(added.jsonText.prefix(300))") }
            _ = try await client.call(
                "set_parameter",
                params: ["instance_id": .string(id), "parameter": .string(symbol), "value": .double(value)]
            )
            rig.append((number, symbol, value))
        }
        _ = try await client.call("save_pedalboard")
        return rig
    }

    /// Kills `service` and returns the milliseconds until it is healthy again and until the host
    /// holds every plugin of `rig` with its value again (asked through the bridge).
    func recovery(
        of service: String,
        rig: [(number: Int, symbol: String, value: Double)]
    ) async throws
        -> (Double, Double)
    {
        let supervisor = RPCClient(RPCClientConfiguration(endpoint: health, timeout: .seconds(2)))
        let bridgeClient = RPCClient(RPCClientConfiguration(endpoint: bridge, timeout: .milliseconds(500)))
        defer {
            Task {
                await supervisor.shutdown()
                await bridgeClient.shutdown()
            }
        }
        func state() async throws -> (pid: Int?, healthy: Bool, all: Bool) {
            let report = try await supervisor.call("health_check")
            let entry = report["services"]?.arrayValue?.first { $0["name"] == .string(service) }
            return (entry?["pid"]?.intValue, entry?["state"] == "healthy", report["status"] == "healthy")
        }
        func hostHoldsRig() async -> Bool {
            for plugin in rig {
                let request = JSONValue.object(["command": .string("param_get \(plugin.number) \(plugin.symbol)")])
                guard let reply = try? await bridgeClient.request(request.serialized()),
                    String(decoding: reply, as: UTF8.self).contains(String(format: "%.4f", plugin.value))
                else { return false }
            }
            return true
        }
        // From a settled stack, with the pedalboard in the host.
        let settleBy = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < settleBy {
            if try await state().all, await hostHoldsRig() { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let pid = try await state().pid else { throw ValidationError("\(service) is not running") }
        let clock = ContinuousClock()
        let killed = clock.now
        kill(pid_t(pid), SIGKILL)
        var ready: Double?
        while true {
            if ready == nil, let now = try? await state(), now.healthy, let newPID = now.pid, newPID != pid {
                ready = seconds(clock.now - killed) * 1000
            }
            if let ready, await hostHoldsRig() { return (ready, seconds(clock.now - killed) * 1000) }
            try await Task.sleep(for: .milliseconds(5))
            if clock.now - killed > .seconds(60) { throw ValidationError("\(service): not back within 60 s") }
        }
    }

    /// Each service's PID, as the supervisor reports it.
    func pids() async throws -> [String: Int] {
        let supervisor = RPCClient(RPCClientConfiguration(endpoint: health, timeout: .seconds(2)))
        defer { Task { await supervisor.shutdown() } }
        let report = try await supervisor.call("health_check")
        var pids: [String: Int] = [:]
        for service in report["services"]?.arrayValue ?? [] {
            if let name = service["name"]?.stringValue, let pid = service["pid"]?.intValue { pids[name] = pid }
        }
        return pids
    }

    func residentKiB(of service: String) async throws -> Int {
        try await pids()[service].map(residentKiB(pid:)) ?? 0
    }
}

/// VmRSS of a process, in KiB; 0 when it cannot be read.
func residentKiB(pid: Int) -> Int {
    let status = readTextFile(atPath: "/proc/\(pid)/status") ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
