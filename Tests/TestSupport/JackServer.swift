public import Foundation
import Jack
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

    /// Starts jackd under the first free name of a small pool and returns once it accepts clients.
    ///
    /// jackd keeps at most 8 servers in its shared registry and reclaims a slot left by a killed
    /// server only when a server of the same name starts: so test servers reuse a few names, and a
    /// name another test run holds is skipped.
    init(sampleRate: Int, period: Int) async throws {
        self.sampleRate = sampleRate
        self.period = period
        for slot in 0..<4 {
            let name = "marlise-test-\(slot)"
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).log")
            let process = try await TestProcess(
                "/usr/bin/jackd",
                ["--no-realtime", "-n", name, "-d", "dummy", "-r", "\(sampleRate)", "-p", "\(period)"],
                log: log
            )
            do {
                try await eventually {
                    guard process.process.isRunning else { throw TestFailure("jackd \(name) exited") }
                    try await onThread { try JackProbe.check(server: name).get() }
                }
                // A server of this name run by someone else answers the probe while ours gives up.
                try await Task.sleep(for: .milliseconds(100))
                guard process.process.isRunning else { continue }
                self.name = name
                self.process = process
                return
            } catch {
                try? await process.stop(SIGKILL)
            }
        }
        throw TestFailure(
            "no jackd could start (see \(FileManager.default.temporaryDirectory.path)/marlise-test-*.log)"
        )
    }

    /// SIGKILL, the way a crash ends it.
    public func kill() async throws { try await process.stop(SIGKILL) }

    deinit {
        if process.process.isRunning { Foundation.kill(process.pid, SIGKILL) }
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
