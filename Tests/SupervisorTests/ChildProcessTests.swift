import Foundation
import Messaging
import Supervisor
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each defect of Foundation's `Process` on Linux, shown closed on
/// our ChildProcess with real children.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ChildProcessTests {
    static func spawn(_ arguments: [String], output: Int32? = nil) async throws -> ChildProcess {
        try await ChildProcess.spawn(
            Command(
                executable: product("marlise-testchild"),
                arguments: arguments,
                environment: ProcessInfo.processInfo.environment,
                standardOutput: output
            )
        )
    }

    static func report(_ path: String) throws -> JSONValue {
        try eventuallySync { try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: path))) }
    }

    static func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(name)-\(getpid())-\(UUID().uuidString.prefix(6))"
        ).path
    }

    @Test func spawnedFromAsyncCodeTheChildObeysSIGTERM() async throws {
        // This test body runs on the cooperative pool, whose threads block SIGTERM: Foundation's
        // Process passes that mask on (swift-corelibs-foundation#4772).
        let path = Self.temporaryFile("mask")
        let child = try await Self.spawn(["--report", path])
        let report = try Self.report(path)
        #expect(report["sigterm_blocked"] == false)
        #expect(report["sigblk"]?.stringValue.map { UInt64($0, radix: 16) } == 0)
        child.signalGroup(SIGTERM)
        #expect(try await child.exitStatus == .signalled(SIGTERM))
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func anIgnoredSIGPIPEIsNotInherited() async throws {
        let previous = signal(SIGPIPE, SIG_IGN)  // as SwiftNIO does process-wide
        defer { signal(SIGPIPE, previous) }
        let path = Self.temporaryFile("pipe")
        let child = try await Self.spawn(["--report", path])
        let report = try Self.report(path)
        #expect(report["sigpipe_default"] == true)
        child.signalGroup(SIGKILL)
        _ = try await child.exitStatus
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func anExitIsNoticedWhileAGrandchildHoldsTheOutput() async throws {
        // The grandchild keeps the child's stdout open for 5 s; Foundation waits for it.
        var pipeEnds: [Int32] = [0, 0]
        #expect(pipe(&pipeEnds) == 0)
        defer { close(pipeEnds[0]) }
        let clock = ContinuousClock()
        let started = clock.now
        let child = try await Self.spawn(["--grandchild", "5000"], output: pipeEnds[1])
        #expect(try await child.exitStatus == .exited(0))
        let noticed = clock.now - started
        #expect(noticed < Duration.seconds(2).scaled, "exit noticed after \(noticed)")
        // Clean up the grandchild with the group, as the supervisor does.
        child.signalGroup(SIGKILL)
    }

    @Test func aChildClosingItsDescriptorsStallsNoOtherExit() async throws {
        let closer = try await Self.spawn(["--close-fds"])
        let clock = ContinuousClock()
        let started = clock.now
        let short = try await Self.spawn(["--crash-after", "50"])
        #expect(try await short.exitStatus == .exited(3))
        #expect(clock.now - started < Duration.seconds(2).scaled)
        #expect(closer.hasExited == nil)
        closer.signalGroup(SIGKILL)
        #expect(try await closer.exitStatus == .signalled(SIGKILL))
    }

    @Test func theChildLeadsItsOwnProcessGroup() async throws {
        let path = Self.temporaryFile("group")
        let child = try await Self.spawn(["--report", path])
        let report = try Self.report(path)
        #expect(report["pgid"]?.intValue == Int(child.pid))
        #expect(report["sid"]?.intValue == Int(child.pid))
        child.signalGroup(SIGKILL)
        _ = try await child.exitStatus
        try? FileManager.default.removeItem(atPath: path)
    }

    @Test func aMissingProgramIsASpawnError() async throws {
        await #expect(throws: SpawnError.self) {
            _ = try await ChildProcess.spawn(Command(executable: "/nonexistent/x", environment: [:]))
        }
    }
}

/// Retries a synchronous read until it succeeds, for a file the child writes a moment after starting:
/// a poll, bounded by 10 s, since another process writing a file announces nothing.
func eventuallySync<T>(_ attempt: () throws -> T) throws -> T {
    let deadline = ContinuousClock.now + .seconds(10)
    while true {
        do {
            return try attempt()
        } catch {
            if ContinuousClock.now >= deadline { throw error }
            usleep(10_000)
        }
    }
}
