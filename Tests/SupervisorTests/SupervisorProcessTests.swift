import Foundation
import Locking
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `marlise-supervisor` as systemd would run it: real jackd, real marlise-session, a
/// notify socket standing in for systemd's, every port free and every process stopped by PID.
@Suite(.serialized, .jackAlone, .timeLimit(.minutes(10))) struct SupervisorProcessTests {
    /// A stack of jack (its own server name) and the session, on free ports, in a folder of its own.
    struct Stack {
        let folder: String
        let config: String
        let httpPort: Int
        let health: String
        let events: String
        let sessionRPC: String
        let jackServer: String

        /// `restartDelay`: seconds a killed service waits before its restart (long enough, say, for a
        /// browser to show it down).
        init(restartDelay: Double = 0.05) throws {
            folder =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("stack-\(getpid())-\(UUID().uuidString.prefix(6))").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            httpPort = try freePort()
            health = "tcp://127.0.0.1:\(try freePort())"
            events = "tcp://127.0.0.1:\(try freePort())"
            sessionRPC = "tcp://127.0.0.1:\(try freePort())"
            jackServer = freeJackServerName()
            config = "\(folder)/marlise.toml"
            let text = """
                [jack]
                server = "\(jackServer)"
                [log]
                dir = "\(folder)/logs"
                [health]
                http = "127.0.0.1:\(httpPort)"
                rpc = "\(health)"
                events = "\(events)"
                [service.jack]
                args = ["--no-realtime", "-n", "\(jackServer)", "-d", "dummy", "-r", "48000", "-p", "256"]
                [service.session]
                args = ["--rpc", "\(sessionRPC)", "--pub", "tcp://127.0.0.1:*"]
                alive = "rpc:\(sessionRPC)#health_check"
                probe_interval = 0.2
                restart_delay = \(restartDelay)
                """
            try text.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func start(notify: String? = nil, watchdog: String? = nil) async throws -> TestProcess {
            var environment: [String: String] = [:]
            if let notify { environment["NOTIFY_SOCKET"] = notify }
            if let watchdog { environment["WATCHDOG_USEC"] = watchdog }
            return try await TestProcess(
                product("marlise-supervisor"),
                ["--config", config, "--only", "jack,session"],
                environment: environment,
                log: URL(fileURLWithPath: "\(folder)/supervisor.out")
            )
        }

        func healthReport() async throws -> JSONValue {
            let client = RPCClient(RPCClientConfiguration(endpoint: health, timeout: .seconds(2)))
            defer { Task { await client.shutdown() } }
            return try await client.call("health_check")
        }

        func pid(of service: String) async throws -> Int32? {
            let report = try await healthReport()
            return report["services"]?.arrayValue?.first { $0["name"] == .string(service) }?["pid"]?.intValue.map(
                Int32.init
            )
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    @Test func systemdSeesReadyWatchdogStatusAndStopping() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        let listener = try NotifyListener()
        let supervisor = try await stack.start(notify: listener.address, watchdog: "400000")

        let ready = try await listener.waitFor("READY=1")
        // Not before everything was ready: at that moment the stack answers healthy.
        let report = try await stack.healthReport()
        #expect(report["status"] == "healthy", "\(report.jsonText)")
        #expect(ready.contains("STATUS=2/2 healthy"))
        // The watchdog is fed at half of WATCHDOG_USEC.
        try await listener.waitFor("WATCHDOG=1", count: 3)

        // HTTP: 200 while healthy, 503 once the session is killed, 200 again once it is back.
        #expect(try await httpStatus(port: stack.httpPort) == 200)
        let session = try #require(try await stack.pid(of: "session"))
        kill(session, SIGKILL)
        try await listener.waitFor("session restarted 1×")
        try await eventually {
            guard try await httpStatus(port: stack.httpPort) == 200 else { throw TestFailure("not back") }
        }
        #expect(try await stack.pid(of: "session") != session)

        let jack = try #require(try await stack.pid(of: "jack"))
        let newSession = try #require(try await stack.pid(of: "session"))
        kill(supervisor.pid, SIGTERM)
        try await listener.waitFor("STOPPING=1")
        try await supervisor.stop(0)  // already stopping: just wait for its exit
        #expect(supervisor.process.terminationReason == .exit)
        #expect(supervisor.process.terminationStatus == 0)
        for pid in [jack, newSession] { #expect(processState(pid) == nil, "pid \(pid) survived") }
        listener.close()
    }

    @Test func sighupRestartsOnlyTheServicesWhoseSpecChanged() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        let listener = try NotifyListener()
        let supervisor = try await stack.start(notify: listener.address)
        try await listener.waitFor("READY=1")
        let jack = try #require(try await stack.pid(of: "jack"))
        let session = try #require(try await stack.pid(of: "session"))

        let edited = try String(contentsOfFile: stack.config, encoding: .utf8)
            .replacingOccurrences(of: "probe_interval = 0.2", with: "probe_interval = 0.3")
        try edited.write(toFile: stack.config, atomically: true, encoding: .utf8)
        kill(supervisor.pid, SIGHUP)
        let reloading = try await listener.waitFor("RELOADING=1")
        #expect(reloading.contains("MONOTONIC_USEC="))
        try await listener.waitFor("READY=1", count: 2)
        #expect(try await stack.pid(of: "jack") == jack)
        let restarted = try #require(try await stack.pid(of: "session"))
        #expect(restarted != session)
        #expect(try await stack.healthReport()["status"] == "healthy")

        // A config that no longer reads is refused; the running stack is kept as it is.
        try "[jack]\nrate = \"fast\"\n".write(toFile: stack.config, atomically: true, encoding: .utf8)
        kill(supervisor.pid, SIGHUP)
        try await listener.waitFor("READY=1", count: 3)
        #expect(try await stack.pid(of: "session") == restarted)
        let journal = try String(contentsOfFile: "\(stack.folder)/logs/supervisor.log", encoding: .utf8)
        #expect(journal.contains("reload refused"))
        try await supervisor.stop(SIGTERM)
        #expect(supervisor.process.terminationStatus == 0)
        listener.close()
    }

    @Test func healthChangedEventsArriveOnThePubSocket() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        let subscriber = try await Subscriber.start(connectingTo: [stack.events], topics: ["health_changed"])
        var messages = subscriber.messages.makeAsyncIterator()
        let supervisor = try await stack.start()
        var sawHealthy = false
        while !sawHealthy, let frames = await messages.next() {
            let event = try #require(EventEnvelope(frames: frames))
            #expect(event.eventType == "health_changed")
            #expect(event.sourceService == "supervisor")
            sawHealthy = event.data["status"] == "healthy"
        }
        #expect(sawHealthy)
        try await supervisor.stop(SIGTERM)
        #expect(supervisor.process.terminationStatus == 0)
        await subscriber.shutdown()
    }

    @Test func afterASIGKILLOurChildrenLeaveAndTheNextStartCleansUp() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        let first = try await stack.start()
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("starting") }
        }
        let jack = try #require(try await stack.pid(of: "jack"))
        let session = try #require(try await stack.pid(of: "session"))
        try await first.stop(SIGKILL)

        // The session watches its supervisor and leaves by itself; jackd (not ours) stays behind.
        try await eventually {
            if processState(session) != nil { throw TestFailure("session \(session) still running") }
        }
        #expect(processState(jack) != nil)

        // The next supervisor stops the leftover jackd before starting its own.
        let second = try await stack.start()
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("starting") }
        }
        // Dead; an orphan's zombie is for PID 1 to reap, which this sandbox's init does not do.
        #expect(processState(jack) == nil || processState(jack) == "Z")
        let journal = try String(contentsOfFile: "\(stack.folder)/logs/supervisor.log", encoding: .utf8)
        #expect(journal.contains("found jack (pid \(jack)) left by an earlier supervisor"))
        try await second.stop(SIGTERM)
        #expect(second.process.terminationStatus == 0)
    }

    @Test func marlisectlHealthExitCodesFollowTheState() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        func marlisectl(_ arguments: [String]) async throws -> (Int32, String) {
            let log = URL(fileURLWithPath: "\(stack.folder)/ctl-\(UUID().uuidString.prefix(6)).out")
            let process = try await TestProcess(
                product("marlisectl"),
                arguments + ["--supervisor", stack.health],
                log: log
            )
            try await process.stop(0)
            return (process.process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
        }
        let supervisor = try await stack.start()
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("starting") }
        }
        #expect(try await marlisectl(["health"]) == (0, "healthy\n"))
        let (code, table) = try await marlisectl(["status"])
        #expect(code == 0)
        #expect(table.contains("stack: healthy"))
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("session") && $0.contains("healthy") })

        // The logs are where the documentation says; `logs` takes the service's name or the file's stem.
        let client = RPCClient(RPCClientConfiguration(endpoint: stack.health, timeout: .seconds(5)))
        let logs = "\(stack.folder)/logs"
        for file in ["session-manager.log", "jack.log", "supervisor.log"] {
            #expect(FileManager.default.fileExists(atPath: "\(logs)/\(file)"), "\(file)")
        }
        for name in ["session", "session-manager"] {
            let answer = try await client.call("log_path", params: ["name": .string(name)])
            #expect(answer["path"]?.stringValue == "\(logs)/session-manager.log")
            let (code, text) = try await marlisectl(["logs", name])
            #expect(code == 0, "\(text)")
        }
        await #expect(throws: RPCError.self) { try await client.call("log_path", params: ["name": "bridge"]) }

        // An operator stops the session: sound can still flow, so the stack is degraded.
        _ = try await client.call("stop_service", params: ["name": "session"])
        #expect(try await marlisectl(["health"]).0 == 1)
        await #expect(throws: RPCError.self) { try await client.call("restart_service", params: ["name": "nosuch"]) }
        await client.shutdown()

        try await supervisor.stop(SIGTERM)
        let (down, message) = try await marlisectl(["health"])
        #expect(down == 2)
        #expect(message.contains("not answering"))
    }

    @Test func aSecondSIGINTKillsAtOnce() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        let extra = """

            [service.stubborn]
            command = "\(product("marlise-testchild"))"
            args = ["--ignore-term", "--ready-after", "0"]
            ready = "notify"
            stop_timeout = 60
            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stack.config))
        handle.seekToEndOfFile()
        handle.write(Data(extra.utf8))
        try handle.close()
        let supervisor = try await TestProcess(
            product("marlise-supervisor"),
            ["--config", stack.config, "--only", "stubborn"],
            log: URL(fileURLWithPath: "\(stack.folder)/supervisor.out")
        )
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("starting") }
        }
        let stubborn = try #require(try await stack.pid(of: "stubborn"))
        kill(supervisor.pid, SIGINT)
        try await eventually {
            let journal = try String(contentsOfFile: "\(stack.folder)/logs/supervisor.log", encoding: .utf8)
            guard journal.contains("stubborn: sending SIGTERM") else { throw TestFailure("not stopping yet") }
        }
        // It ignores SIGTERM and may take 60 s; the second ^C does not wait.
        kill(supervisor.pid, SIGINT)
        let clock = ContinuousClock()
        let start = clock.now
        try await supervisor.stop(0)
        #expect(clock.now - start < .seconds(30))
        #expect(processState(stubborn) == nil)
        let journal = try String(contentsOfFile: "\(stack.folder)/logs/supervisor.log", encoding: .utf8)
        #expect(journal.contains("killing every child at once"))
    }

    @Test func aCrashLoopEndsTheSupervisorWithANonZeroExit() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        let extra = """

            [service.looping]
            command = "\(product("marlise-testchild"))"
            args = ["--crash-after", "20"]
            max_restarts = 2
            restart_delay = 0.01
            """
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stack.config))
        handle.seekToEndOfFile()
        handle.write(Data(extra.utf8))
        try handle.close()
        let log = URL(fileURLWithPath: "\(stack.folder)/supervisor.out")
        let supervisor = try await TestProcess(
            product("marlise-supervisor"),
            ["--config", stack.config, "--only", "looping"],
            log: log
        )
        try await supervisor.stop(0)  // it ends by itself
        #expect(supervisor.process.terminationReason == .exit)
        #expect(supervisor.process.terminationStatus == 1)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("gave up on looping"), "\(output)")
    }

    @Test func aBadConfigIsRefusedNamingTheKey() async throws {
        let stack = try Stack()
        defer { stack.remove() }
        try "[jack]\nrate = \"fast\"\n".write(toFile: stack.config, atomically: true, encoding: .utf8)
        let log = URL(fileURLWithPath: "\(stack.folder)/refused.out")
        let supervisor = try await TestProcess(product("marlise-supervisor"), ["--config", stack.config], log: log)
        try await supervisor.stop(0)
        #expect(supervisor.process.terminationStatus != 0)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("marlise.toml: key 'jack.rate': expected an integer"), "\(output)")
    }
}

/// A datagram socket standing in for systemd's notify socket.
final class NotifyListener: Sendable {
    let address: String
    private let fd: Int32
    private let received = Received()

    /// The datagrams so far, shared with the reading thread.
    private final class Received: Sendable {
        let messages = Locked<[String]>([])
        /// Announced after every datagram added.
        let arrived = ChangeSignal()
    }

    init() throws {
        let name = "marlise-test-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw TestFailure("bind notify socket: \(errno)") }
        self.fd = fd
        self.address = "@" + name
        Thread { [received] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }
                let message = String(decoding: buffer[..<count], as: UTF8.self)
                received.messages.withLock { $0.append(message) }
                received.arrived.announce()
            }
        }.start()
    }

    /// Waits until `count` messages contain `fragment`; returns the first of them.
    @discardableResult
    func waitFor(_ fragment: String, count: Int = 1) async throws -> String {
        let first = await received.arrived.first(by: .now + .seconds(20)) {
            let matching = received.messages.withLock { $0.filter { $0.contains(fragment) } }
            return matching.count >= count ? matching.first : nil
        }
        guard let first else {
            throw TestFailure("\(fragment) ×\(count) not received; got \(received.messages.withLock { $0 })")
        }
        return first
    }

    func close() { shutdown(fd, Int32(SHUT_RDWR)) }
}

/// The HTTP status of `GET /health`.
func httpStatus(port: Int, path: String = "/health") async throws -> Int {
    try await httpRequest("GET", path, port: UInt16(port)).0
}
