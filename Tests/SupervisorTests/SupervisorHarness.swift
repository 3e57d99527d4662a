import Foundation
import Health
import Messaging
import Supervisor
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs a supervisor over test children in a log folder of its own, and waits on its health.
final class SupervisorHarness: Sendable {
    let supervisor: Supervisor
    let logDirectory: String
    private let run: Task<Supervisor.Outcome, Never>
    /// Announced after every change of the supervisor's state.
    private let changes = ChangeSignal()

    static var testchild: String { product("marlise-testchild") }

    /// A service running `marlise-testchild` with `arguments`, ready as soon as it runs unless told.
    static func child(_ name: String, _ arguments: [String], readiness: Probe = .spawned) -> ServiceSpec {
        var spec = ServiceSpec(name: name, executable: testchild, readiness: readiness)
        spec.arguments = arguments
        spec.restart.initialDelay = .milliseconds(20)
        spec.restart.maxDelay = .milliseconds(200)
        spec.stopTimeout = .seconds(2)
        spec.startTimeout = .seconds(5)
        return spec
    }

    /// `environment` is added to this process's own for the children (tests never change the
    /// process environment: other suites read it concurrently).
    init(
        _ services: [ServiceSpec],
        environment: [String: String] = [:],
        configure: (inout SupervisorConfiguration) -> Void = { _ in }
    ) throws {
        logDirectory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("supervisor-test-\(getpid())-\(UUID().uuidString.prefix(8))").path
        var configuration = SupervisorConfiguration(services: services)
        configuration.logDirectory = logDirectory
        configure(&configuration)
        let supervisor = try Supervisor(
            configuration: configuration,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            logger: .init(label: "test")
        )
        self.supervisor = supervisor
        let changes = changes
        run = Task {
            // Before the run starts, so no change goes unannounced.
            await supervisor.onChange { _ in changes.announce() }
            return await supervisor.run()
        }
    }

    /// A test that failed before stopping its stack still leaves no child behind.
    deinit {
        let supervisor = supervisor
        Task { await supervisor.stop() }
    }

    /// Waits until the health report satisfies `condition`, looking again at every change of state;
    /// fails after `timeout`.
    @discardableResult
    func until(
        timeout: Duration = .seconds(20),
        _ what: String = "condition",
        _ condition: @Sendable (HealthReport) -> Bool
    ) async throws -> HealthReport {
        let found = await changes.first(by: .now + timeout) {
            let report = await supervisor.health()
            return condition(report) ? report : nil
        }
        guard let found else {
            let report = await supervisor.health()
            throw TestFailure("timed out waiting for \(what); health: \(report.json.jsonText)")
        }
        return found
    }

    func service(_ name: String) async -> ServiceHealth? {
        await supervisor.health().services.first { $0.name == name }
    }

    /// Stops the stack and returns how the run ended.
    func stop() async -> Supervisor.Outcome {
        await supervisor.stop()
        return await run.value
    }

    /// How the supervisor's run ended. A test cancelled while waiting (its time limit) cancels the
    /// run, which stops the stack, so the wait always ends.
    var outcome: Supervisor.Outcome {
        get async {
            await withTaskCancellationHandler {
                await run.value
            } onCancel: {
                run.cancel()
            }
        }
    }

    func log(_ name: String) -> String {
        readTextFile(atPath: "\(logDirectory)/\(name).log") ?? ""
    }

    func removeLogs() { try? FileManager.default.removeItem(atPath: logDirectory) }
}

/// Whether `pid` is still a live process (a zombie counts as gone only once reaped: it is reported).
func processState(_ pid: Int32) -> Character? {
    guard let stat = readTextFile(atPath: "/proc/\(pid)/stat"),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(close, offsetBy: 2)]
}
