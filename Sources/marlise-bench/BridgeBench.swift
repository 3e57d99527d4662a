import ArgumentParser
import Foundation
import Jack
import Messaging
import ModHostWire
import Posix
import Supervisor

#if canImport(Glibc)
import Glibc
#endif

/// `marlise-bench bridge`: sequential `set_parameter` calls through marlise-bridge to a real LV2 host
/// on jackd's dummy driver, beside the same `param_set` commands sent straight to the host's TCP
/// socket (the floor), as issue 6 item 8 asks.
struct BridgeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bridge")

    @Option(help: "Commands per run.")
    var count = 10_000

    @Option(help: "Runs of each; the figures printed are the medians over runs.")
    var runs = 3

    @Option(help: "The LV2 host: marlise-host beside this program by default, or a mod-host.")
    var host: String?

    func run() async throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        let hostPath = host ?? "\(bin)/marlise-host"
        let stack = try await BenchHostStack.start(host: hostPath, bin: bin)
        do {
            try await measure(stack)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    private func measure(_ stack: BenchHostStack) async throws {
        print("bridge: \(count) sequential set_parameter per run, \(runs) runs, swh amp on \(stack.hostName)")
        print("microseconds (median over runs); commands/s from the whole run")
        let count = count
        var floor: [(Figures, Double)] = []
        let (commandPort, feedbackPort) = (stack.commandPort, stack.feedbackPort)
        // The floor first: mod-host serves one client at a time, so the bridge must not hold it yet.
        for _ in 0..<runs {
            floor.append(try await onThread { try directRun(commandPort, feedbackPort, count: count) })
        }
        let bridge = try await stack.startBridge()
        var through: [(Figures, Double)] = []
        var local: [(Figures, Double)] = []
        let id = try await onThread { try loadAmp(bridge) }
        let setParameter: @Sendable (Int) -> String = { index in
            #"{"action":"plugin","method":"set_parameter","instance_id":"\#(id)","parameter":"gain","value":\#(index % 40 - 20)}"#
        }
        for _ in 0..<runs {
            through.append(try await onThread { try bridgeRun(bridge, count: count, request: setParameter) })
            // The same round trip with no mod-host I/O: what ZeroMQ and the bridge cost alone.
            local.append(
                try await onThread {
                    try bridgeRun(bridge, count: count) { _ in #"{"action":"plugin","method":"list_instances"}"# }
                }
            )
        }

        let floorFigures = Figures.median(floor.map(\.0))
        let bridgeFigures = Figures.median(through.map(\.0))
        print("path                                   p50      p99      max   commands/s")
        for (name, figures) in [
            ("direct TCP to the host (floor)", floor), ("bridge set_parameter", through),
            ("bridge list_instances (no host I/O)", local),
        ] {
            print(
                name.padding(toLength: 35, withPad: " ", startingAt: 0),
                Figures.median(figures.map(\.0)).formatted,
                String(format: "%10.0f", median(figures.map(\.1)))
            )
        }
        print(String(format: "bridge p50 - floor p50: %.1f µs (goal ≤ 100)", bridgeFigures.p50 - floorFigures.p50))

        // The host goes away: calls must fail at once with HOST_UNAVAILABLE.
        // SIGTERM, not SIGKILL: jackd sometimes fails to unregister (leaking one of its 8 server
        // slots) when a client was killed under it shortly before it is itself stopped.
        stack.host.signalGroup(SIGTERM)
        _ = try? await stack.host.exitStatus
        try await waitUntil("the bridge notices") {
            (try? bridgeRun(bridge, count: 1, expect: "HOST_UNAVAILABLE", request: setParameter)) != nil
        }
        let down = try await onThread {
            try bridgeRun(bridge, count: 1000, expect: "HOST_UNAVAILABLE", request: setParameter)
        }
        print("host down: set_parameter → HOST_UNAVAILABLE", down.0.formatted)
    }
}

/// `count` `param_set` on a persistent command+feedback pair, each NUL-terminated, each reply read
/// to its NUL: the best a client of the host can do.
private func directRun(_ commandPort: Int, _ feedbackPort: Int, count: Int) throws -> (Figures, Double) {
    let command = try TCPPeer(port: commandPort)
    let feedback = try TCPPeer(port: feedbackPort)
    defer {
        command.close()  // command side first: closing only the feedback side wedges mod-host
        feedback.close()
    }
    _ = try command.call("output_data_ready")
    let added = try command.call("add http://plugin.org.uk/swh-plugins/amp 9000")
    guard added == "resp 9000" else { throw BenchFailure("add answered '\(added)'") }
    defer { _ = try? command.call("remove 9000") }
    let clock = ContinuousClock()
    var samples: [Duration] = []
    samples.reserveCapacity(count)
    let started = clock.now
    for index in 0..<(count + 200) {
        let start = clock.now
        let reply = try command.call("param_set 9000 gain \(index % 40 - 20)")
        guard reply == "resp 0" else { throw BenchFailure("param_set answered '\(reply)'") }
        if index >= 200 { samples.append(clock.now - start) }
    }
    return (Figures(samples), Double(count + 200) / seconds(clock.now - started))
}

private func loadAmp(_ endpoint: String) throws -> String {
    let socket = try ZMQSocket(.req)
    defer { socket.close() }
    try socket.set(.receiveTimeout(.seconds(10)))
    try socket.connect(endpoint)
    try socket.send([
        Data(#"{"action":"plugin","method":"load_plugin","uri":"http://plugin.org.uk/swh-plugins/amp"}"#.utf8)
    ])
    guard let frame = try socket.receive()?.first, let reply = try? JSONValue(parsing: frame),
        let id = reply["instance_id"]?.stringValue
    else { throw BenchFailure("load_plugin failed") }
    return id
}

/// `count` requests on one REQ socket, each reply checked for `expect`; the first 200 (or 10 %
/// for short runs) are warm-up.
private func bridgeRun(
    _ endpoint: String,
    count: Int,
    expect: String = #""success":true"#,
    request: (Int) -> String
) throws -> (Figures, Double) {
    let socket = try ZMQSocket(.req)
    defer { socket.close() }
    try socket.set(.receiveTimeout(.seconds(10)))
    try socket.connect(endpoint)
    let warmUp = min(200, count / 10)
    let clock = ContinuousClock()
    var samples: [Duration] = []
    samples.reserveCapacity(count)
    let started = clock.now
    for index in 0..<(count + warmUp) {
        let body = Data(request(index).utf8)
        let start = clock.now
        try socket.send([body])
        guard let frame = try socket.receive()?.first else { throw BenchFailure("no reply") }
        if index >= warmUp { samples.append(clock.now - start) }
        guard String(decoding: frame, as: UTF8.self).contains(expect) else {
            throw BenchFailure("expected \(expect): \(String(decoding: frame, as: UTF8.self))")
        }
    }
    return (Figures(samples), Double(count + warmUp) / seconds(clock.now - started))
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// jackd (dummy driver), the LV2 host and, later, marlise-bridge, each on a name and ports of its own.
struct BenchHostStack {
    let jack: ChildProcess
    let host: ChildProcess
    let hostName: String
    let server: String
    let commandPort: Int
    let feedbackPort: Int
    let bin: String
    private let bridge = OneShot<ChildProcess>()

    static func start(host path: String, bin: String) async throws -> BenchHostStack {
        let server = "marlise-bench-\(getpid())"
        let jack = try await ChildProcess.spawn(
            Command(
                executable: "/usr/bin/jackd",
                arguments: ["--no-realtime", "-n", server, "-d", "dummy", "-r", "48000", "-p", "256"],
                environment: ProcessInfo.processInfo.environment
            )
        )
        do {
            try await waitUntil("jackd \(server) accepts clients") {
                (try? JackProbe.check(server: server).get()) != nil
            }
            return try await start(host: path, bin: bin, server: server, jack: jack)
        } catch {
            jack.signalGroup(SIGTERM)
            _ = try? await jack.exitStatus
            throw error
        }
    }

    private static func start(
        host path: String,
        bin: String,
        server: String,
        jack: ChildProcess
    ) async throws -> BenchHostStack {
        let (commandPort, feedbackPort) = (try freeTCPPort(), try freeTCPPort())
        let isModHost = path.hasSuffix("mod-host")
        let arguments =
            isModHost
            ? ["-n", "-p", "\(commandPort)", "-f", "\(feedbackPort)"]
            : ["-p", "\(commandPort)", "-f", "\(feedbackPort)", "--jack-server", server]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(server)-host.log").path
        let output = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let host = try await ChildProcess.spawn(
            Command(
                executable: path,
                arguments: arguments,
                environment: ProcessInfo.processInfo.environment.merging(["JACK_DEFAULT_SERVER": server]) { $1 },
                standardOutput: output,
                standardError: dup(output)
            )
        )
        // Not probed with a connection: mod-host serves one client at a time and pairs whatever
        // feedback connection comes next with it. Both hosts say when they listen.
        do {
            try await waitUntil("\(path) listens on \(commandPort) (log: \(log))") {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("mod-host ready!") == true
            }
        } catch {
            host.signalGroup(SIGTERM)
            _ = try? await host.exitStatus
            throw error
        }
        return BenchHostStack(
            jack: jack,
            host: host,
            hostName: URL(fileURLWithPath: path).lastPathComponent,
            server: server,
            commandPort: commandPort,
            feedbackPort: feedbackPort,
            bin: bin
        )
    }

    /// Starts marlise-bridge against the host and returns its request endpoint once it is healthy.
    func startBridge() async throws -> String {
        let (rep, pub, health) = (try freeTCPPort(), try freeTCPPort(), try freeTCPPort())
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(server)-bridge.log").path
        let output = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        let process = try await ChildProcess.spawn(
            Command(
                executable: "\(bin)/marlise-bridge",
                arguments: [],
                environment: ProcessInfo.processInfo.environment.merging([
                    "MOD_HOST_HOST": "127.0.0.1", "MOD_HOST_PORT": "\(commandPort)",
                    "MOD_HOST_FEEDBACK_PORT": "\(feedbackPort)", "MODHOST_BRIDGE_REP": "tcp://127.0.0.1:\(rep)",
                    "MODHOST_BRIDGE_PUB": "tcp://127.0.0.1:\(pub)",
                    "MODHOST_BRIDGE_HEALTH": "tcp://127.0.0.1:\(health)",
                    "JACK_DEFAULT_SERVER": server,
                ]) { $1 },
                standardOutput: output,
                standardError: dup(output)
            )
        )
        bridge.fulfil(process)
        try await waitUntil("marlise-bridge is healthy") {
            guard let socket = try? ZMQSocket(.req) else { return false }
            defer { socket.close() }
            try? socket.set(.receiveTimeout(.milliseconds(300)))
            guard (try? socket.connect("tcp://127.0.0.1:\(health)")) != nil,
                (try? socket.send([Data(#"{"action":"health"}"#.utf8)])) != nil,
                let frame = try? socket.receive()?.first
            else { return false }
            return (try? JSONValue(parsing: frame))?["status"] == "healthy"
        }
        return "tcp://127.0.0.1:\(rep)"
    }

    /// Stops what it started, by process group, bridge first.
    func stop() async {
        for process in [bridge.current, host, jack].compactMap({ $0 }) {
            process.signalGroup(SIGTERM)
            _ = try? await process.exitStatus
        }
    }
}

/// Polls `condition` off the pool, every 50 ms, for up to 20 s.
private func waitUntil(_ what: String, _ condition: @Sendable @escaping () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(20)
    while clock.now < deadline {
        if await onThread(condition) { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw BenchFailure("timed out waiting until \(what)")
}

/// A port on 127.0.0.1 the kernel just reported free.
private func freeTCPPort() throws -> Int {
    let socket = try ZMQSocket(.rep)
    defer { socket.close() }
    try socket.bind("tcp://127.0.0.1:*")
    guard let port = try socket.lastEndpoint().split(separator: ":").last.flatMap({ Int($0) }) else {
        throw BenchFailure("no port")
    }
    return port
}

/// A blocking TCP client of the host's text protocol.
final class TCPPeer {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private var framer = NULFramer()

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw BenchFailure("cannot connect to \(port)")
        }
        var on: Int32 = 1
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        guard setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) == 0,
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0
        else {
            let reason = errnoText()
            Glibc.close(fd)
            throw BenchFailure("cannot set up the connection to \(port): \(reason)")
        }
    }

    func close() { Glibc.close(fd) }

    /// One command, NUL-terminated in one write; the reply up to its NUL.
    func call(_ command: String) throws -> String {
        let bytes = NULFramer.frame(command)
        let sent = retryingOnInterrupt {
            bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        guard sent == bytes.count else {
            throw BenchFailure("send failed")
        }
        while true {
            let count = retryingOnInterrupt { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            guard count > 0 else {
                throw BenchFailure(
                    "no reply to '\(command)': " + (count == 0 ? "closed" : errnoText())
                )
            }
            framer.append(buffer[..<count])
            if let reply = try framer.next() { return String(decoding: reply, as: UTF8.self) }
        }
    }
}
