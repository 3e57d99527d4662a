import ArgumentParser
import Foundation
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// `marlise-bench soak`: the whole default stack under a steady stream of session calls for
/// minutes on end, with every process's resident memory sampled as it goes. Flat memory under load
/// is what a box that runs for months needs; a leak of a few bytes per call shows here.
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "soak")

    @Option(help: "Minutes of load.")
    var minutes = 10

    @Option(help: "Session calls per second.")
    var rate = 100

    @Option(help: "Seconds between memory samples.")
    var sampleSeconds = 30

    @Option(help: "Seconds of load before the baseline sample (allocators and caches settle).")
    var warmUpSeconds = 60

    @Option(help: "Growth, in percent of the baseline, above which a process counts as leaking.")
    var tolerance = 5.0

    static let amp = "http://plugin.org.uk/swh-plugins/amp"
    static let overdrive = "http://drobilla.net/plugins/mda/Overdrive"
    static let processes = ["supervisor", "jack", "host", "bridge", "session"]

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let stack = try FullStack(bin: bin)
        defer { stack.remove() }
        let (supervisor, _) = try await stack.start()
        defer {
            supervisor.signalGroup(SIGTERM)
        }
        let client = RPCClient(RPCClientConfiguration(endpoint: stack.session, timeout: .seconds(10)))
        defer { Task { await client.shutdown() } }
        _ = try await client.call("create_pedalboard", params: ["name": "Soak"])
        let amp = try await instanceID(client.call("add_plugin", params: ["uri": .string(Self.amp)]))
        let overdrive = try await instanceID(client.call("add_plugin", params: ["uri": .string(Self.overdrive)]))
        _ = try await client.call("save_pedalboard")
        /// Every process of the stack by name, the supervisor's included.
        func current() async throws -> [String: Int] {
            try await stack.pids().merging(["supervisor": Int(supervisor.pid)]) { $1 }
        }
        var processes = try await current()
        print(
            "soak: \(minutes) min at \(rate) session calls/s; RSS sampled every \(sampleSeconds) s after \(warmUpSeconds) s of load"
        )

        let calls = Calls(amp: amp, overdrive: overdrive)
        let clock = ContinuousClock()
        let started = clock.now
        let end = started + .seconds(minutes * 60)
        let period = Duration.seconds(1) / rate
        var nextSample = started + .seconds(warmUpSeconds)
        var samples: [(seconds: Int, kib: [String: Int])] = []
        var latencies: [Duration] = []
        var failures: [String: Int] = [:]
        var tick = 0
        while clock.now < end {
            let due = started + period * tick
            if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            let (method, params) = calls.next(tick)
            let sent = clock.now
            do {
                let result = try await client.call(method, params: params)
                if result["success"] == false { failures[method, default: 0] += 1 }
            } catch {
                failures[method, default: 0] += 1
            }
            latencies.append(clock.now - sent)
            tick += 1
            if clock.now >= nextSample {
                let now = try await current()
                if now != processes {
                    print("restarted during the soak: \(now.filter { processes[$0.key] != $0.value }.keys.sorted())")
                    processes = now
                }
                let seconds = Int(seconds(clock.now - started))
                samples.append((seconds, processes.mapValues(residentKiB(pid:))))
                print(
                    "t=\(seconds)s "
                        + Self.processes.map { "\($0) \(samples.last!.kib[$0] ?? 0) KiB" }.joined(separator: ", ")
                )
                fflush(nil)  // each sample as it is taken, even into a file
                nextSample = nextSample + .seconds(sampleSeconds)
            }
        }
        let achieved = Double(tick) / seconds(clock.now - started)
        let figures = Figures(latencies)
        print(String(format: "calls: %d (%.1f/s), latency µs %@", tick, achieved, figures.formatted))
        print("failed calls: \(failures.isEmpty ? "none" : failures.sorted { $0.key < $1.key }.description)")
        guard let first = samples.first, let last = samples.last, samples.count > 1 else {
            print("too short for a memory verdict")
            return
        }
        var leaking: [String] = []
        for name in Self.processes {
            let before = Double(first.kib[name] ?? 0)
            let after = Double(last.kib[name] ?? 0)
            let growth = before > 0 ? (after - before) / before * 100 : 0
            print(
                String(
                    format: "%@: RSS %.1f MB at %d s → %.1f MB at %d s (%+.1f %%)",
                    name,
                    before / 1024,
                    first.seconds,
                    after / 1024,
                    last.seconds,
                    growth
                )
            )
            if growth > tolerance { leaking.append(name) }
        }
        print(leaking.isEmpty ? "RSS flat (within \(tolerance) %)" : "RSS grew beyond \(tolerance) %: \(leaking)")
    }

    func instanceID(_ reply: JSONValue) throws -> String {
        guard let id = reply["instance_id"]?.stringValue else {
            throw ValidationError("add_plugin: \(reply.jsonText.prefix(300))")
        }
        return id
    }
}

/// The mix of calls a soak sends: mostly knob turns and reads, as a client does, with a plugin
/// added and removed and a wire made and broken once every 100 calls, and a save every 50.
struct Calls {
    let amp: String
    let overdrive: String

    func next(_ tick: Int) -> (String, [String: JSONValue]) {
        let wire: [String: JSONValue] = [
            "source": .string("\(amp):output"), "target": .string("\(overdrive):left_in"),
        ]
        switch tick % 100 {
        case 0: return ("add_plugin", ["uri": .string(SoakBench.amp), "instance_id": "soak_extra"])
        case 1: return ("remove_plugin", ["instance_id": "soak_extra"])
        case 2: return ("create_connection", wire)
        case 3: return ("remove_connection", wire)
        case 4, 54: return ("save_pedalboard", [:])
        case let slot where slot % 5 == 0: return ("health_check", [:])
        case let slot where slot % 5 == 1: return ("get_parameter", ["instance_id": .string(amp), "parameter": "gain"])
        case let slot where slot % 7 == 0: return ("get_current_pedalboard", [:])
        default:
            let value = Double(tick % 40) / 2 - 10
            return ("set_parameter", ["instance_id": .string(amp), "parameter": "gain", "value": .double(value)])
        }
    }
}
