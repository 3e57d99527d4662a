import ArgumentParser
import Foundation
import Messaging
import Supervisor

#if canImport(Glibc)
import Glibc
#endif

/// `marlise-bench scale`: the default stack under the real supervisor, started against two plugin
/// sets (two `LV2_PATH`s: the stock bundles, then everything installed), measured from outside in
/// one run, with each figure's ratio beside issue 17's goal.
struct ScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Start, recovery, memory and list answers of the whole stack with few vs many LV2 plugins."
    )

    @Option(help: "LV2_PATH of the small set (e.g. a folder of links to the stock bundles).")
    var stock: String

    @Option(help: "LV2_PATH of the large set (e.g. every folder where bundles are installed).")
    var all: String

    @Option(help: "Runs per set; medians are printed.")
    var runs = 3

    @Option(help: "The old get_available_plugins answer, bytes (goal: a tenth of it).")
    var oldBytes = 13_800_000

    @Option(help: "The old get_available_plugins answer, milliseconds (goal: a tenth of it).")
    var oldMilliseconds = 442.0

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let sets = [("stock", stock), ("all", all)]
        var results: [String: ScaleFigures] = [:]
        for (label, path) in sets {
            let plugins = countPlugins(path: path)
            print("\(label): LV2_PATH=\(path) (\(plugins) plugins)")
            results[label] = ScaleFigures(plugins: plugins)
        }
        // The sets take turns, so that a slower or busier minute weighs on both.
        for run in 0..<runs {
            for (label, path) in sets {
                let stack = try ScaleStack(bin: bin, lv2Path: path, tag: "\(label)-\(run)")
                do {
                    let one = try await stack.measure()
                    print("  \(label) run \(run + 1): \(one.summary)")
                    results[label]?.add(one)
                    stack.remove()
                } catch {
                    print("  \(label) run \(run + 1) failed: \(error); logs kept in \(stack.folder)/logs")
                    throw error
                }
            }
        }
        guard let small = results["stock"], let large = results["all"] else { return }
        print("")
        print("figure | stock (\(small.plugins)) | all (\(large.plugins)) | ratio | goal")
        func row(_ name: String, _ key: String, unit: String, goal: Double) {
            let before = small.middle(key)
            let after = large.middle(key)
            let ratio = before > 0 ? after / before : .infinity
            print(
                String(
                    format: "%@ | %.1f %@ | %.1f %@ | %.2f× | ≤ %.1f× %@",
                    name,
                    before,
                    unit,
                    after,
                    unit,
                    ratio,
                    goal,
                    ratio <= goal ? "✓" : "✗"
                )
            )
        }
        row("cold start → healthy (empty data dir)", "cold", unit: "ms", goal: 1.3)
        row("warm start → healthy (caches written)", "warm", unit: "ms", goal: 1.3)
        row("kill -9 session → healthy", "killSession", unit: "ms", goal: 1.3)
        row("kill -9 bridge → healthy", "killBridge", unit: "ms", goal: 1.3)
        row("anonymous memory, session + bridge (idle after start)", "anonPair", unit: "kB", goal: 2)
        row("anonymous memory, session + bridge (idle after the warm start)", "anonPairWarm", unit: "kB", goal: 2)
        row("anonymous memory, session + bridge (after a list call to each)", "anonPairListed", unit: "kB", goal: 2)
        row(
            "anonymous memory, session + bridge (\(ScaleStack.bridgeIdleSeconds) s after them)",
            "anonPairReleased",
            unit: "kB",
            goal: 2
        )
        for key in [
            "anonSession", "anonBridge", "anonHost", "anonSessionListed", "anonBridgeListed", "anonHostListed",
            "anonSessionReleased", "anonBridgeReleased", "anonSessionWarm", "anonBridgeWarm",
        ] {
            print(
                String(
                    format: "  %@ anonymous: %.0f kB | %.0f kB | %.2f×",
                    key,
                    small.middle(key),
                    large.middle(key),
                    large.middle(key) / max(small.middle(key), 1)
                )
            )
        }
        for (name, prefix) in [
            ("session", "session"), ("bridge", "bridge"), ("bridge, \"shape\": \"list\"", "bridgeList"),
            ("bridge, \"shape\": \"list\" again", "bridgeListAgain"),
        ] {
            let bytes = large.middle(prefix + "Bytes")
            let time = large.middle(prefix + "Time")
            let byteRatio = bytes / Double(oldBytes)
            let timeRatio = time / oldMilliseconds
            print(
                String(
                    format:
                        "%@ get_available_plugins (all): %.0f B (%.3f of %d %@), %.1f ms (%.3f of %.0f %@); stock: %.0f B, %.1f ms",
                    name,
                    bytes,
                    byteRatio,
                    oldBytes,
                    byteRatio <= 0.1 ? "✓" : "✗",
                    time,
                    timeRatio,
                    oldMilliseconds,
                    timeRatio <= 0.1 ? "✓" : "✗",
                    small.middle(prefix + "Bytes"),
                    small.middle(prefix + "Time")
                )
            )
        }
    }

    /// Plugins lilv finds on `path`, as `lv2ls` counts them; 0 when lv2ls is missing.
    private func countPlugins(path: String) -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["lv2ls"]
        process.environment = ProcessInfo.processInfo.environment.merging(["LV2_PATH": path]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return 0 }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data.split(separator: UInt8(ascii: "\n")).count
    }
}

/// Every run's figures of one plugin set, by name.
struct ScaleFigures {
    let plugins: Int
    private var values: [String: [Double]] = [:]

    init(plugins: Int) { self.plugins = plugins }

    mutating func add(_ run: [String: Double]) {
        for (key, value) in run { values[key, default: []].append(value) }
    }

    func middle(_ key: String) -> Double { values[key].map { median($0) } ?? 0 }
}

extension [String: Double] {
    var summary: String {
        let order = [
            "cold", "warm", "killSession", "killBridge", "anonSession", "anonBridge", "anonHost", "anonSessionListed",
            "anonBridgeListed", "anonHostListed", "anonSessionReleased", "anonBridgeReleased", "anonSessionWarm",
            "anonBridgeWarm", "sessionBytes",
            "sessionTime", "bridgeBytes", "bridgeTime", "bridgeListBytes", "bridgeListTime",
        ]
        return order.compactMap { key in self[key].map { "\(key) \(String(format: "%.0f", $0))" } }.joined(
            separator: ", "
        )
    }
}

/// One run: a folder, ports, a JACK server name and caches of its own; the plugin set by `LV2_PATH`.
final class ScaleStack {
    /// The bridge lets its catalogue go after this long without a request needing it (30 s by default).
    static let bridgeIdleSeconds = 5
    let bin: String
    let folder: String
    let lv2Path: String
    let healthURL: (host: String, port: UInt16)
    let healthRPC: String
    let session: String
    let bridge: String

    init(bin: String, lv2Path: String, tag: String) throws {
        self.bin = bin
        self.lv2Path = lv2Path
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "bench-scale-\(getpid())-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let base = Int.random(in: 2000...3900) * 10
        let ports = (0..<9).map { base + $0 }
        healthURL = ("127.0.0.1", UInt16(ports[7]))
        healthRPC = "tcp://127.0.0.1:\(ports[0])"
        session = "tcp://127.0.0.1:\(ports[1])"
        bridge = "tcp://127.0.0.1:\(ports[2])"
        try StackConfig(
            folder: folder,
            jackServer: "marlise-scale-\(getpid())-\(tag)",
            hostPort: ports[5],
            hostFeedbackPort: ports[6],
            httpPort: ports[7],
            healthRPC: healthRPC,
            healthEvents: "tcp://127.0.0.1:\(ports[8])",
            session: session,
            bridge: bridge,
            bridgeEvents: "tcp://127.0.0.1:\(ports[3])",
            bridgeHealth: "tcp://127.0.0.1:\(ports[4])",
            bridgeEnvironment: [
                "MARLISE_BRIDGE_CATALOGUE_CACHE=\(folder)/bridge-cache/plugin-catalogue.json",
                "MARLISE_BRIDGE_CATALOGUE_IDLE_SECONDS=\(ScaleStack.bridgeIdleSeconds)",
            ]
        ).write()
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// Cold start, memory and list answers, stop; warm start, kill -9 of the session and of the
    /// bridge, stop.
    func measure() async throws -> [String: Double] {
        var figures: [String: Double] = [:]
        var (supervisor, startup) = try await startRetrying()
        do {
            figures["cold"] = startup
            let pids = try await servicePIDs()
            // Memory once the catalogues are read in the background (the session's and the
            // bridge's, at start) and the processes are idle again; then after a list call to each.
            let watched = ["session", "bridge", "host"].compactMap { pids[$0] }
            await settle(pids: watched)
            func anonymous(_ suffix: String) {
                for service in ["session", "bridge", "host"] {
                    figures["anon\(service.capitalized)\(suffix)"] = Double(anonymousKiB(pid: pids[service] ?? 0))
                }
                figures["anonPair\(suffix)"] =
                    (figures["anonSession\(suffix)"] ?? 0) + (figures["anonBridge\(suffix)"] ?? 0)
            }
            anonymous("")
            _ = try await timedCall(session, envelope: true)
            _ = try await timedCall(bridge, envelope: false)
            let sessionAnswer = try await timedCall(session, envelope: true)
            figures["sessionBytes"] = Double(sessionAnswer.bytes)
            figures["sessionTime"] = sessionAnswer.milliseconds
            let bridgeAnswer = try await timedCall(bridge, envelope: false)
            figures["bridgeBytes"] = Double(bridgeAnswer.bytes)
            figures["bridgeTime"] = bridgeAnswer.milliseconds
            let bridgeList = try await timedCall(bridge, envelope: false, shape: "list")
            figures["bridgeListBytes"] = Double(bridgeList.bytes)
            figures["bridgeListTime"] = bridgeList.milliseconds
            // The list answer is kept with the bridge's catalogue: the next call is served from it.
            let bridgeListAgain = try await timedCall(bridge, envelope: false, shape: "list")
            figures["bridgeListAgainBytes"] = Double(bridgeListAgain.bytes)
            figures["bridgeListAgainTime"] = bridgeListAgain.milliseconds
            await settle(pids: watched)
            anonymous("Listed")
            try await Task.sleep(for: .seconds(ScaleStack.bridgeIdleSeconds + 2))
            await settle(pids: watched)
            anonymous("Released")
        } catch {
            await stop(supervisor)
            throw error
        }
        await stop(supervisor)
        (supervisor, startup) = try await startRetrying()
        do {
            figures["warm"] = startup
            // Memory once the session has read its catalogue from the cache.
            let pids = try await servicePIDs()
            _ = try await timedCall(session, envelope: true)
            await settle(pids: ["session", "bridge"].compactMap { pids[$0] })
            figures["anonSessionWarm"] = Double(anonymousKiB(pid: pids["session"] ?? 0))
            figures["anonBridgeWarm"] = Double(anonymousKiB(pid: pids["bridge"] ?? 0))
            figures["anonPairWarm"] = (figures["anonSessionWarm"] ?? 0) + (figures["anonBridgeWarm"] ?? 0)
            figures["killSession"] = try await recovery(of: "session")
            figures["killBridge"] = try await recovery(of: "bridge")
        } catch {
            await stop(supervisor)
            throw error
        }
        await stop(supervisor)
        return figures
    }

    /// ``start()``, once more after a start that never became healthy: on a machine shared with
    /// other JACK servers a jackd sometimes hangs before it serves (a metadata lock another one
    /// left), which says nothing about the plugins. The retry is printed.
    private func startRetrying() async throws -> (ChildProcess, Double) {
        do { return try await start() } catch {
            print("  (a start was not healthy within 60 s: \(error); retried)")
            return try await start()
        }
    }

    /// Starts the supervisor; returns it and the milliseconds until `GET /health` answered 200.
    private func start() async throws -> (ChildProcess, Double) {
        let clock = ContinuousClock()
        let started = clock.now
        let process = try await ChildProcess.spawn(
            Command(
                executable: "\(bin)/marlise-supervisor",
                arguments: ["--config", "\(folder)/marlise.toml"],
                environment: ProcessInfo.processInfo.environment.merging(["LV2_PATH": lv2Path]) { $1 }
            )
        )
        while clock.now - started < .seconds(60) {
            if httpStatus(host: healthURL.host, port: healthURL.port, path: "/health") == 200 {
                return (process, seconds(clock.now - started) * 1000)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        await stop(process)
        throw ValidationError("not healthy within 60 s")
    }

    /// SIGTERM to the supervisor (which stops its services), SIGKILL to its group after 20 s.
    private func stop(_ process: ChildProcess) async {
        process.signalGroup(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isAlive, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isAlive { process.signalGroup(SIGKILL) }
        _ = try? await process.exitStatus
    }

    private func servicePIDs() async throws -> [String: Int] {
        let client = RPCClient(RPCClientConfiguration(endpoint: healthRPC, timeout: .seconds(2)))
        defer { Task { await client.shutdown() } }
        let report = try await client.call("health_check")
        var pids: [String: Int] = [:]
        for service in report["services"]?.arrayValue ?? [] {
            if let name = service["name"]?.stringValue, let pid = service["pid"]?.intValue { pids[name] = pid }
        }
        return pids
    }

    /// One `get_available_plugins`: the reply's bytes and milliseconds.
    private func timedCall(
        _ endpoint: String,
        envelope: Bool,
        shape: String? = nil
    ) async throws -> (bytes: Int, milliseconds: Double) {
        let client = RPCClient(RPCClientConfiguration(endpoint: endpoint, timeout: .seconds(60)))
        defer { Task { await client.shutdown() } }
        let frame =
            envelope
            ? RequestEnvelope(method: "get_available_plugins", params: [:]).encoded()
            : Data(
                #"{"action":"plugin","method":"get_available_plugins"\#(shape.map { #","shape":"\#($0)""# } ?? "")}"#
                    .utf8
            )
        let clock = ContinuousClock()
        let sent = clock.now
        let reply = try await client.request(frame)
        return (reply.count, seconds(clock.now - sent) * 1000)
    }

    /// Waits until none of `pids` used CPU time for 300 ms (at most 30 s).
    private func settle(pids: [Int]) async {
        func ticks() -> Double {
            pids.reduce(0) { total, pid in
                let stat = readTextFile(atPath: "/proc/\(pid)/stat") ?? ""
                let fields = stat[(stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
                guard fields.count > 13 else { return total }
                return total + (Double(fields[12]) ?? 0) + (Double(fields[13]) ?? 0)
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        var last = ticks()
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(300))
            let now = ticks()
            if now == last { return }
            last = now
        }
    }

    /// Kills `service` with SIGKILL; the milliseconds until `GET /health` is 200 with it under a new PID.
    private func recovery(of service: String) async throws -> Double {
        let settleBy = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < settleBy,
            httpStatus(host: healthURL.host, port: healthURL.port, path: "/health") != 200
        {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard let pid = try await servicePIDs()[service] else { throw ValidationError("\(service) is not running") }
        let clock = ContinuousClock()
        let killed = clock.now
        kill(pid_t(pid), SIGKILL)
        while clock.now - killed < .seconds(60) {
            if httpStatus(host: healthURL.host, port: healthURL.port, path: "/health") == 200,
                let now = try? await servicePIDs()[service], now != pid
            {
                return seconds(clock.now - killed) * 1000
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ValidationError("\(service): not healthy again within 60 s")
    }
}

/// RssAnon of a process (its anonymous resident memory), in KiB; 0 when it cannot be read.
func anonymousKiB(pid: Int) -> Int {
    let status = readTextFile(atPath: "/proc/\(pid)/status") ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// The status code of `GET path` on a plain HTTP/1.1 server, or nil when it does not answer in 2 s.
func httpStatus(host: String, port: UInt16, path: String) -> Int? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    inet_pton(AF_INET, host, &address.sin_addr)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard count > 12 else { return nil }
    // "HTTP/1.1 200 OK"
    let line = String(decoding: buffer[..<count], as: UTF8.self)
    let parts = line.split(separator: " ")
    return parts.count > 1 ? Int(parts[1]) : nil
}
