import Foundation
import Messaging
import TestSupport
import Testing

/// Kill -9 or freeze a random child of the running stack, round after round, and check that the
/// supervisor brings everything back and the session puts the pedalboard back in the host.
@Suite(.serialized, .jackAlone, .timeLimit(.minutes(15))) struct ChaosTests {
    /// Rounds: 20 for kills and freezes (quick probes), 100 for kills under the default settings,
    /// unless `MARLISE_CHAOS_ROUNDS` says otherwise; each run is also capped in time.
    static let rounds = ProcessInfo.processInfo.environment["MARLISE_CHAOS_ROUNDS"].flatMap(Int.init)

    @Test func theStackRecoversFromKillsAndFreezes() async throws {
        let stack = try await Stack(quickProbes: true)
        // A process outside the stack, which nothing may touch.
        let bystander = try await TestProcess(product("marlise-testchild"), ["--sleep", "3600000"])
        defer { kill(bystander.pid, SIGKILL) }
        let supervisorPID = stack.supervisor.pid
        do {
            let rig = try await Rig.build(on: stack)
            try await rig.expectInHost(stack, within: .seconds(10))
            var recoveries: [Duration] = []
            var generator = SystemRandomNumberGenerator()
            let clock = ContinuousClock()
            let end = clock.now + .seconds(600)
            for round in 0..<(Self.rounds ?? 20) where clock.now < end {
                let service = ["jack", "host", "bridge", "session"].randomElement(using: &generator)!
                let freeze = Int.random(in: 0..<5, using: &generator) == 0
                let pid = try #require(try await stack.pid(service), "round \(round): no pid for \(service)")
                let started = clock.now
                kill(pid, freeze ? SIGSTOP : SIGKILL)
                // The supervisor must replace the process, then everything must be as before.
                try await eventually(within: .seconds(30)) {
                    guard let now = try await stack.pid(service), now != pid else {
                        throw TestFailure("round \(round): \(service) (\(pid)) not replaced yet")
                    }
                }
                try await stack.untilHealthy(within: .seconds(30))
                do {
                    try await rig.expectInHost(stack, within: .seconds(30))
                } catch {
                    throw TestFailure("round \(round), \(freeze ? "SIGSTOP" : "SIGKILL") \(service): \(error)")
                }
                recoveries.append(clock.now - started)
                #expect(stack.supervisor.process.isRunning && stack.supervisor.pid == supervisorPID)
                #expect(bystander.process.isRunning, "round \(round): a process outside the stack was touched")
                let strays = strayProcesses(supervisor: supervisorPID)
                #expect(strays.isEmpty, "round \(round) (\(freeze ? "SIGSTOP" : "SIGKILL") \(service)): \(strays)")
            }
            print("chaos: \(recoveries.count) rounds, recovery \(summary(recoveries))")
            #expect(recoveries.count >= min(Self.rounds ?? 20, 10))
        } catch {
            for service in ["supervisor", "bridge", "session"] {
                Issue.record("\(service): \(stack.log(service).suffix(2500))")
            }
            _ = try? await stack.stop()
            throw error
        }
        #expect(try await stack.stop() == 0)
        #expect(bystander.process.isRunning)
    }
}

/// What the client set up, to be found again in the host after every crash.
struct Rig {
    var plugins: [(id: String, symbol: String, value: Double)]
    /// Pairs of full JACK port names.
    var wires: [(String, String)]

    static func build(on stack: Stack) async throws -> Rig {
        try await stack.call("create_pedalboard", ["name": "Chaos"])
        let first = try await stack.call("add_plugin", ["uri": .string(amp)])
        let second = try await stack.call("add_plugin", ["uri": .string(overdrive)])
        let ampID = try #require(first["instance_id"]?.stringValue)
        let odID = try #require(second["instance_id"]?.stringValue)
        for (source, target) in [
            ("system:capture_1", "\(ampID):input"), ("\(ampID):output", "\(odID):left_in"),
            ("\(odID):left_out", "system:playback_1"),
        ] {
            try await stack.call("create_connection", ["source": .string(source), "target": .string(target)])
        }
        try await stack.call("set_parameter", ["instance_id": .string(ampID), "parameter": "gain", "value": -7.5])
        try await stack.call("set_parameter", ["instance_id": .string(odID), "parameter": "drive", "value": 0.625])
        try await stack.call("save_pedalboard")
        return Rig(
            plugins: [(ampID, "gain", -7.5), (odID, "drive", 0.625)],
            wires: [("system:capture_1", "input"), ("output", "left_in"), ("left_out", "system:playback_1")]
        )
    }

    /// Reads the host (through the bridge, not the session's memory) until it matches the rig.
    /// `clients`: polling clients (``Stack/pollingClients(timeout:)``) in place of the stack's own.
    func expectInHost(
        _ stack: Stack,
        within deadline: Duration,
        clients: (session: RPCClient, bridge: RPCClient)? = nil
    ) async throws {
        let session = clients?.session ?? stack.session
        let bridge = clients?.bridge
        try await eventually(within: deadline) {
            var numbers: [String: Int] = [:]
            for plugin in plugins {
                let info = try await session.call("get_plugin_info", params: ["instance_id": .string(plugin.id)])
                guard let number = info["plugin"]?["host_instance"]?.intValue ?? info["host_instance"]?.intValue else {
                    throw TestFailure("no host number for \(plugin.id): \(info.jsonText.prefix(300))")
                }
                numbers[plugin.id] = number
                let reply = try await stack.host("param_get \(number) \(plugin.symbol)", via: bridge)
                guard reply.contains(String(format: "%.4f", plugin.value)) else {
                    throw TestFailure("\(plugin.id) \(plugin.symbol) in the host: \(reply)")
                }
            }
            let amp = "effect_\(numbers[plugins[0].id]!)"
            let od = "effect_\(numbers[plugins[1].id]!)"
            let expected = [
                ("system:capture_1", "\(amp):input"), ("\(amp):output", "\(od):left_in"),
                ("\(od):left_out", "system:playback_1"),
            ]
            _ = try await stack.bridgeAudio("init_jack", via: bridge)
            for (source, target) in expected {
                let reply = try await stack.bridgeAudio(
                    "get_jack_port_connections",
                    ["port": .string(source)],
                    via: bridge
                )
                guard reply["connections"]?.arrayValue?.contains(.string(target)) == true else {
                    throw TestFailure("\(source) → \(target) missing in JACK: \(reply.jsonText)")
                }
            }
        }
    }
}

/// Processes started for this stack that are no longer its children: zombies, or orphans whose
/// environment names this supervisor.
func strayProcesses(supervisor: Int32) -> [String] {
    let children = Set(childPIDs(of: supervisor))
    var strays: [String] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), pid != supervisor else { continue }
        guard let stat = readTextFile(atPath: "/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        let state = fields.first.map(String.init) ?? "?"
        let parent = Int32(fields.dropFirst().first ?? "") ?? 0
        if parent == supervisor && state == "Z" { strays.append("zombie \(pid)") }
        if !children.contains(pid),
            let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")),
            String(decoding: environment, as: UTF8.self).contains("MARLISE_SUPERVISOR_PID=\(supervisor)\u{0}")
        {
            strays.append("orphan \(pid) (\(stat.prefix(60)))")
        }
    }
    return strays
}

/// Children of every thread of `parent` (a child belongs to the thread that spawned it).
func childPIDs(of parent: Int32) -> [Int32] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task")) ?? []
    return tasks.flatMap { task in
        let text = readTextFile(atPath: "/proc/\(parent)/task/\(task)/children") ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }
}

/// p50 / p99 (nearest rank) / max in milliseconds.
func summary(_ durations: [Duration]) -> String {
    guard let longest = durations.max() else { return "none" }
    func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
    return String(
        format: "p50 %.0f ms, p99 %.0f ms, max %.0f ms",
        milliseconds(percentile(durations, 0.5)),
        milliseconds(percentile(durations, 0.99)),
        milliseconds(longest)
    )
}
