import ArgumentParser
import Foundation
import Messaging
import Supervisor

#if canImport(Glibc)
import Glibc
#endif

/// `marlise-bench supervisor`: the default stack under the real supervisor, measured from outside.
struct SupervisorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "supervisor")

    @Option(help: "Runs of the start and restart measurements; medians are printed.")
    var runs = 5

    @Option(help: "Seconds over which the idle supervisor's CPU use is measured.")
    var idleSeconds = 60

    @Option(help: "Bytes a child writes for the log-throughput figure.")
    var floodBytes = 1 << 30

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        print("supervisor: default stack (jackd dummy, session; host and bridge absent where not built), \(runs) runs")
        try await logThroughput(bin: bin)
        var starts: [Double] = []
        var restarts: [String: [Double]] = [:]
        var idle: (cpu: Double, rss: Int, anonymous: Int)?
        for run in 0..<runs {
            let stack = try BenchStack(bin: bin)
            defer { stack.remove() }
            let (supervisor, startup) = try await stack.start()
            do {
                starts.append(startup)
                for service in ["jack", "session"] {
                    restarts[service, default: []].append(try await stack.restartTime(of: service))
                }
                if run == runs - 1 { idle = try await stack.idle(seconds: idleSeconds, pid: supervisor.pid) }
            } catch {
                // Stop what this run started before giving up.
                supervisor.signalGroup(SIGTERM)
                _ = try? await supervisor.exitStatus
                throw error
            }
            supervisor.signalGroup(SIGTERM)
            _ = try? await supervisor.exitStatus
        }
        print(String(format: "start to all ready: median %.0f ms (runs: %@)", median(starts), list(starts)))
        for (service, times) in restarts.sorted(by: { $0.key < $1.key }) {
            print(
                String(
                    format: "kill -9 %@ → ready again: median %.0f ms (runs: %@)",
                    service,
                    median(times),
                    list(times)
                )
            )
        }
        if let idle {
            print(
                String(
                    format:
                        "idle CPU over %d s: %.2f %% of a core; RSS %.1f MB, of which %.1f MB private (the rest: shared libraries' pages)",
                    idleSeconds,
                    idle.cpu,
                    Double(idle.rss) / 1024,
                    Double(idle.anonymous) / 1024
                )
            )
        }
    }

    /// A child flooding stdout into /dev/null, then into a ServiceLog: the supervisor's cost.
    func logThroughput(bin: String) async throws {
        let child = "\(bin)/marlise-testchild"
        let devNull = open("/dev/null", O_WRONLY)
        let clock = ContinuousClock()
        var start = clock.now
        let plain = try await ChildProcess.spawn(
            Command(
                executable: child,
                arguments: ["--flood", String(floodBytes)],
                environment: [:],
                standardOutput: devNull
            )
        )
        _ = try? await plain.exitStatus
        let direct = clock.now - start

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-log-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let log = try ServiceLog(directory: folder, name: "flood", maxBytes: 64 << 20, keep: 2)
        let pipes = try log.attach()
        start = clock.now
        let logged = try await ChildProcess.spawn(
            Command(
                executable: child,
                arguments: ["--flood", String(floodBytes)],
                environment: [:],
                standardOutput: pipes.standardOutput,
                standardError: pipes.standardError
            )
        )
        _ = try? await logged.exitStatus
        let childDone = clock.now - start
        await log.waitUntilDrained()
        let drained = clock.now - start
        let megabytes = Double(floodBytes) / 1e6
        print(
            String(
                format:
                    "log: %.0f MB of 100-byte lines: to /dev/null %.2f s; through the log %.2f s (child done %.2f s) = %.0f MB/s",
                megabytes,
                seconds(direct),
                seconds(drained),
                seconds(childDone),
                megabytes / seconds(drained)
            )
        )
    }
}

/// One supervisor over jackd and the session, on a JACK server name and ports of its own.
struct BenchStack {
    let folder: String
    let bin: String
    let health: String
    let events: String
    let notify: String

    init(bin: String) throws {
        self.bin = bin
        folder =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "bench-stack-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            ).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let ports = (0..<4).map { _ in Int.random(in: 20000...40000) }
        health = "tcp://127.0.0.1:\(ports[0])"
        events = "tcp://127.0.0.1:\(ports[1])"
        notify = "@marlise-bench-\(getpid())-\(ports[2])"
        // One name for every run: a slot a killed jackd left in its registry is reclaimed by name.
        let server = "marlise-bench"
        let text = """
            [jack]
            server = "\(server)"
            [log]
            dir = "\(folder)/logs"
            [health]
            http = "127.0.0.1:\(ports[2])"
            rpc = "\(health)"
            events = "\(events)"
            [service.session]
            args = ["--rpc", "tcp://127.0.0.1:\(ports[3])", "--pub", "tcp://127.0.0.1:*"]
            alive = "rpc:tcp://127.0.0.1:\(ports[3])#echo"
            """
        try text.write(toFile: "\(folder)/marlise.toml", atomically: true, encoding: .utf8)
    }

    /// Starts the supervisor; returns it and the milliseconds until it said READY=1.
    func start() async throws -> (ChildProcess, Double) {
        let listener = try DatagramListener(name: notify)
        let clock = ContinuousClock()
        let started = clock.now
        let process = try await ChildProcess.spawn(
            Command(
                executable: "\(bin)/marlise-supervisor",
                arguments: ["--config", "\(folder)/marlise.toml"],
                environment: ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": notify]) { $1 }
            )
        )
        do {
            try listener.wait(for: "READY=1", timeout: 10)
        } catch {
            process.signalGroup(SIGTERM)  // the stack it started goes with it
            _ = try? await process.exitStatus
            throw error
        }
        return (process, seconds(clock.now - started) * 1000)
    }

    /// Kills the service's process and returns the milliseconds until it is healthy again.
    func restartTime(of service: String) async throws -> Double {
        let client = RPCClient(RPCClientConfiguration(endpoint: health, timeout: .seconds(2)))
        defer { Task { await client.shutdown() } }
        func state() async throws -> (pid: Int?, healthy: Bool) {
            let report = try await client.call("health_check")
            let entry = report["services"]?.arrayValue?.first { $0["name"] == .string(service) }
            return (entry?["pid"]?.intValue, entry?["state"] == "healthy")
        }
        // Start from a settled stack: a dependent may still be coming back from the last kill.
        let settleBy = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < settleBy {
            let report = try await client.call("health_check")
            let states = report["services"]?.arrayValue?.compactMap { $0["state"]?.stringValue } ?? []
            if states.allSatisfy({ $0 == "healthy" || $0 == "absent" }) { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard let pid = try await state().pid else { throw ValidationError("\(service) is not running") }
        let clock = ContinuousClock()
        let killed = clock.now
        kill(pid_t(pid), SIGKILL)
        while true {
            let now = try await state()
            if now.healthy, let newPID = now.pid, newPID != pid { return seconds(clock.now - killed) * 1000 }
            try await Task.sleep(for: .milliseconds(2))
            if clock.now - killed > .seconds(30) { throw ValidationError("\(service) did not come back") }
        }
    }

    /// CPU use (percent of one core), RSS and its private (anonymous) part, in KiB, of the idle supervisor.
    func idle(seconds duration: Int, pid: Int32) async throws -> (Double, Int, Int) {
        func cpuTicks() -> Double {
            let stat = readTextFile(atPath: "/proc/\(pid)/stat") ?? ""
            let fields = stat[(stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
            return (Double(fields[12]) ?? 0) + (Double(fields[13]) ?? 0)
        }
        try await Task.sleep(for: .seconds(2))  // settle
        let before = cpuTicks()
        try await Task.sleep(for: .seconds(duration))
        let used = (cpuTicks() - before) / Double(sysconf(Int32(_SC_CLK_TCK)))
        let status = readTextFile(atPath: "/proc/\(pid)/status") ?? ""
        func field(_ name: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.flatMap {
                Int($0.split(separator: " ")[1])
            } ?? 0
        }
        return (used / Double(duration) * 100, field("VmRSS"), field("RssAnon"))
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

/// An abstract datagram socket that stands in for systemd's notify socket.
final class DatagramListener {
    private let fd: Int32

    init(name: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.dropFirst().utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw ValidationError("cannot bind the notify socket") }
    }

    deinit { close(fd) }

    func wait(for fragment: String, timeout: Int) throws {
        var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < deadline {
            guard poll(&item, 1, 100) == 1 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0, String(decoding: buffer[..<count], as: UTF8.self).contains(fragment) { return }
        }
        throw ValidationError("no \(fragment) within \(timeout) s")
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func list(_ values: [Double]) -> String { values.map { String(format: "%.0f", $0) }.joined(separator: ", ") }
