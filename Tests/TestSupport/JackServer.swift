public import Foundation
import Jack
import Locking
import Messaging
public import Testing

/// A real jackd on the dummy driver under a server name no other test or developer uses.
///
/// libjack keeps one server connection per process while any client is open, so tests that open
/// JACK clients in the test process run one at a time through ``withJackServer(sampleRate:period:_:)``.
public final class JackServer: Sendable {
    public let name: String
    public let process: TestProcess
    public let sampleRate: Int
    public let period: Int

    /// Starts jackd under a free name of the pool (see ``freeJackServerName()``) and returns once
    /// it accepts clients.
    init(sampleRate: Int, period: Int) async throws {
        self.sampleRate = sampleRate
        self.period = period
        let name = freeJackServerName()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log")
        let process = try await TestProcess(
            "/usr/bin/jackd",
            ["--no-realtime", "-n", name, "-d", "dummy", "-r", "\(sampleRate)", "-p", "\(period)"],
            log: log
        )
        do {
            try await eventually {
                guard process.process.isRunning else { throw TestFailure("jackd \(name) exited: see \(log.path)") }
                try await onThread { try JackProbe.check(server: name).get() }
            }
        } catch {
            try? await process.stop(SIGKILL)
            throw error
        }
        self.name = name
        self.process = process
    }

    /// SIGKILL, the way a crash ends it.
    public func kill() async throws { try await process.stop(SIGKILL) }

    deinit {
        if process.process.isRunning { Foundation.kill(process.pid, SIGKILL) }
    }
}

/// A JACK server name no running server uses, from a small pool shared by every test.
///
/// jackd keeps at most 8 servers in a registry shared by the whole machine, and frees the slot of
/// a killed server only when a server of the same name starts again: so tests reuse a few names
/// rather than invent new ones, and a name a live server (a developer's) holds is skipped. A test
/// process claims a name with a lock on `/tmp/marlise-test-jack-<n>.lock`, held until it exits, so
/// two test runs at once never pick the same name between one's probe and its jackd's start.
/// Call it only while holding the JACK gate (it opens a probe client in this process).
public func freeJackServerName() -> String {
    for slot in 0..<6 where claimedSlots.claim(slot) {
        let name = "marlise-test-\(slot)"
        if (try? JackProbe.check(server: name).get()) == nil { return name }
    }
    return "marlise-test-\(getpid())"
}

/// The pool's names this process holds the lock of.
private let claimedSlots = ClaimedSlots()

private final class ClaimedSlots: Sendable {
    private let held = Locked<Set<Int>>([])

    /// Whether this process holds `slot`, taking it if no other process does.
    func claim(_ slot: Int) -> Bool {
        held.withLock { held in
            if held.contains(slot) { return true }
            let fd = open("/tmp/marlise-test-jack-\(slot).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else { return false }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                close(fd)
                return false
            }
            held.insert(slot)  // the descriptor stays open, and the lock held, until the process exits
            return true
        }
    }
}

/// Runs `body` with a jackd of its own, alone among the tests that use JACK in this process;
/// the server is killed afterwards.
public func withJackServer<T>(
    sampleRate: Int = 48000,
    period: Int = 256,
    _ body: (JackServer) async throws -> T
) async throws -> T {
    try await withJackAlone {
        let server = try await JackServer(sampleRate: sampleRate, period: period)
        do {
            let result = try await body(server)
            try await server.process.stop(SIGTERM)
            return result
        } catch {
            try? await server.kill()
            throw error
        }
    }
}

/// Runs `body` while no other test of this process talks to a JACK server.
public func withJackAlone<T>(_ body: () async throws -> T) async throws -> T {
    await jackGate.acquire()
    do {
        let result = try await body()
        await jackGate.release()
        return result
    } catch {
        await jackGate.release()
        throw error
    }
}

private let jackGate = AsyncGate()

/// A first-come, first-served async mutex.
private actor AsyncGate {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }
}

/// A suite whose tests start jackd themselves (through a supervisor, say): the whole suite runs
/// while no other test of this process uses JACK, so servers never crowd jackd's registry.
public struct JackAloneTrait: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withJackAlone { try await function() }
    }
}

extension Trait where Self == JackAloneTrait {
    public static var jackAlone: Self { JackAloneTrait() }
}
