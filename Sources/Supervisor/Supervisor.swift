import Foundation
public import Health
import Jack
public import Logging
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// Starts the stack in dependency order, watches every child, restarts what fails (with its
/// dependents, OTP's rest_for_one) and stops everything in reverse order.
///
/// Decisions about restarts live in ``RestartTracker``; this actor performs them. Every event
/// carries the generation of the process it is about, so news of an old process never touches a new one.
public actor Supervisor {
    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// Stopped on request; exit 0.
        case stopped
        /// A service failed past its restart limit; the stack was stopped. Exit non-zero.
        case gaveUp(service: String, reason: String)
    }

    /// The exit code (sysexits' `EX_UNAVAILABLE`) with which a program starting up says it cannot run
    /// here; its service is reported absent instead of restarted.
    public static let unavailable: Int32 = 69

    let configuration: SupervisorConfiguration
    let logger: Logger
    let journal: ServiceLog
    let environment: [String: String]
    var units: [String: Unit] = [:]
    let order: [String]
    let startedAt = ContinuousClock.now
    var phase: HealthReport.Status? = .starting
    /// No more starts or restarts: the stack is going down.
    var stopping = false
    var stopRequested = false
    private let outcome = OneShot<Outcome>()
    var notify: NotifySocket?
    private var changeHandlers: [@Sendable (HealthReport) -> Void] = []

    /// - Parameter environment: what children inherit (the supervisor's own, normally); systemd's
    ///   `NOTIFY_SOCKET` and `WATCHDOG_*` are never passed on.
    public init(configuration: SupervisorConfiguration, environment: [String: String], logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        var inherited = environment
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"] {
            inherited[key] = nil
        }
        inherited["JACK_DEFAULT_SERVER"] = configuration.jack.server
        inherited["MARLISE_SUPERVISOR_PID"] = String(getpid())
        self.environment = inherited
        journal = try ServiceLog(
            directory: configuration.logDirectory,
            name: "supervisor",
            maxBytes: configuration.logMaxBytes,
            keep: configuration.logKeep,
            echo: false
        )
        let services = configuration.selectedServices
        order = Self.startOrder(services)
        for spec in services {
            let log = try ServiceLog(
                directory: configuration.logDirectory,
                name: spec.name,
                maxBytes: configuration.logMaxBytes,
                keep: configuration.logKeep,
                echo: configuration.echoLogs
            )
            units[spec.name] = Unit(spec: spec, log: log, environment: inherited)
        }
    }

    /// The services' names with every service after what it depends on, otherwise as configured.
    static func startOrder(_ services: [ServiceSpec]) -> [String] {
        let names = Set(services.map(\.name))
        var placed: [String] = []
        var remaining = services
        while !remaining.isEmpty {
            // The first service whose dependencies (among those running) are all placed; a cycle,
            // which the config file refuses, falls back to the configured order.
            let index =
                remaining.firstIndex { spec in
                    spec.dependencies.allSatisfy { !names.contains($0) || placed.contains($0) }
                } ?? 0
            placed.append(remaining.remove(at: index).name)
        }
        return placed
    }

    /// Calls `handler` with the new report after every change of state.
    public func onChange(_ handler: @escaping @Sendable (HealthReport) -> Void) {
        changeHandlers.append(handler)
    }

    /// Cleans up what a previous run left, starts the stack and watches it until ``stop()`` or a
    /// service gives up.
    public func run() async -> Outcome {
        record("supervisor \(getpid()) starting: \(order.joined(separator: ", "))")
        await Leftovers.clean(in: configuration.logDirectory) { await self.record($0) }
        do {
            notify = try NotifySocket { pid, fields in
                Task { await self.notified(pid: pid, fields: fields) }
            }
        } catch {
            record("\(error); children cannot report readiness themselves")
        }
        reconcile()
        let result = await outcome.value
        notify?.close()
        return result
    }

    // MARK: - Starting

    /// Starts every service that is not running and whose dependencies are all ready.
    func reconcile() {
        guard !stopping else { return }
        for name in order {
            guard var unit = units[name], unit.state == .waiting else { continue }
            let dependencies = unit.spec.dependencies.filter { units[$0] != nil }
            if let missing = dependencies.first(where: { units[$0]?.state == .absent }) {
                unit.state = .absent
                unit.message = "needs \(missing), which is absent"
                units[name] = unit
                continue
            }
            guard dependencies.allSatisfy({ units[$0]?.state == .ready }) else {
                unit.message =
                    "waiting for " + dependencies.filter { units[$0]?.state != .ready }.joined(separator: ", ")
                units[name] = unit
                continue
            }
            guard let executable = ExecutableLookup.find(unit.spec.executable, environment: environment) else {
                unit.state = .absent
                unit.message = "\(unit.spec.executable) is not installed"
                units[name] = unit
                record("\(name): absent (\(unit.spec.executable) not found)")
                continue
            }
            unit.state = .starting
            unit.generation += 1
            unit.message = nil
            units[name] = unit
            let generation = unit.generation
            Task { await self.start(name, executable: executable, generation: generation) }
        }
        updatePhase()
        changed()
    }

    private func start(_ name: String, executable: String, generation: Int) async {
        guard let unit = units[name], unit.generation == generation else { return }
        let spec = unit.spec
        let command: Command
        do {
            let pipes = try unit.log.attach()
            var environment = unit.environment.merging(spec.environment) { $1 }
            if let notify { environment["NOTIFY_SOCKET"] = notify.address }
            command = Command(
                executable: executable,
                arguments: spec.arguments,
                environment: environment,
                workingDirectory: spec.workingDirectory,
                standardOutput: pipes.standardOutput,
                standardError: pipes.standardError
            )
        } catch {
            await failed(name, generation: generation, reason: "cannot open its log: \(error)")
            return
        }
        let child: ChildProcess
        do {
            child = try await ChildProcess.spawn(command)
        } catch {
            await failed(name, generation: generation, reason: "\(error)")
            return
        }
        guard units[name]?.generation == generation, !stopping else {
            // Stopped or superseded while spawning: this process is not wanted.
            child.signalGroup(SIGKILL)
            return
        }
        units[name]?.child = child
        units[name]?.spawnedAt = .now
        Leftovers.remember(child, name: name, in: configuration.logDirectory)
        record("\(name): started \(executable) as pid \(child.pid)")
        changed()
        Task { await self.exited(name, generation: generation, status: await child.exitStatus) }
        Task { await self.awaitReadiness(name, generation: generation) }
    }

    private func awaitReadiness(_ name: String, generation: Int) async {
        guard let spec = units[name]?.spec else { return }
        let deadline = ContinuousClock.now + spec.startTimeout
        var lastFailure = "no answer"
        while ContinuousClock.now < deadline {
            guard let unit = units[name], unit.generation == generation, unit.state == .starting else { return }
            if spec.readiness == .notify {
                if unit.notifiedReady { return ready(name, generation: generation) }
            } else {
                let began = ContinuousClock.now
                let result = await ProbeRunner.check(spec.readiness, timeout: min(spec.probe.timeout, deadline - began))
                guard units[name]?.generation == generation else { return }
                record(probe: result, for: name, began: began)
                switch result {
                case .success: return ready(name, generation: generation)
                case .failure(let failure): lastFailure = failure.message
                }
            }
            try? await Task.sleep(for: spec.probe.readinessInterval)
        }
        guard units[name]?.generation == generation, units[name]?.state == .starting else { return }
        await failed(name, generation: generation, reason: "not ready within \(spec.startTimeout) (\(lastFailure))")
    }

    private func ready(_ name: String, generation: Int) {
        guard var unit = units[name], unit.generation == generation, unit.state == .starting else { return }
        unit.state = .ready
        unit.readyAt = .now
        unit.livenessFailures = 0
        units[name] = unit
        record("\(name): ready (pid \(unit.child?.pid ?? 0))")
        if let liveness = unit.spec.liveness {
            Task { await self.watch(name, generation: generation, probe: liveness) }
        }
        reconcile()
    }

    /// A `READY=1` (or other state) from a child over the notify socket, checked by sender PID.
    private func notified(pid: Int32, fields: [String: String]) {
        guard let name = order.first(where: { units[$0]?.child?.pid == pid }) else { return }
        if let status = fields["STATUS"] { units[name]?.message = status }
        if fields["READY"] == "1" { units[name]?.notifiedReady = true }
        if let unit = units[name], fields["READY"] == "1", unit.state == .starting, unit.spec.readiness == .notify {
            ready(name, generation: unit.generation)
        } else {
            changed()
        }
    }

    // MARK: - Watching

    private func watch(_ name: String, generation: Int, probe: Probe) async {
        var client: RPCClient?
        if case .rpc(let endpoint, _) = probe, let spec = units[name]?.spec {
            client = RPCClient(RPCClientConfiguration(endpoint: endpoint, timeout: spec.probe.timeout))
        }
        defer { if let client { Task { await client.shutdown() } } }
        var jack: JackWatch?
        if case .jack(let server) = probe { jack = JackWatch(server: server) }
        defer { jack?.close() }
        while true {
            guard let spec = units[name]?.spec else { return }
            try? await Task.sleep(for: spec.probe.interval)
            guard let unit = units[name], unit.generation == generation, unit.state == .ready else { return }
            let began = ContinuousClock.now
            let result = await ProbeRunner.check(probe, timeout: spec.probe.timeout, client: client, jack: jack)
            guard units[name]?.generation == generation, units[name]?.state == .ready else { return }
            record(probe: result, for: name, began: began)
            switch result {
            case .success:
                units[name]?.livenessFailures = 0
            case .failure(let failure):
                let failures = (units[name]?.livenessFailures ?? 0) + 1
                units[name]?.livenessFailures = failures
                record(
                    "\(name): liveness probe failed (\(failures)/\(spec.probe.failureThreshold)): \(failure.message)"
                )
                if failures >= spec.probe.failureThreshold {
                    // Hung: kill it; its exit then takes the usual way.
                    units[name]?.child?.signalGroup(SIGKILL)
                    return
                }
            }
            changed()
        }
    }

    private func exited(_ name: String, generation: Int, status: ExitStatus) async {
        guard var unit = units[name], unit.generation == generation else { return }
        // Whatever the child left in its group (a grandchild holding its pipes) goes with it.
        unit.child?.signalGroup(SIGKILL)
        unit.child = nil
        unit.spawnedAt = nil
        unit.lastExit = LastExit(
            code: { if case .exited(let code) = status { code } else { nil } }(),
            signal: { if case .signalled(let number) = status { signalName(number) } else { nil } }(),
            at: Date()
        )
        units[name] = unit
        record("\(name): exited with \(status)")
        switch unit.state {
        case .starting where status == .exited(Self.unavailable):
            // The program says it cannot run here (sysexits' EX_UNAVAILABLE): absent, not a crash loop.
            units[name]?.state = .absent
            units[name]?.message = "\(unit.spec.executable) reported itself unavailable (exit \(Self.unavailable))"
            record("\(name): absent (its program exited \(Self.unavailable), unavailable)")
            reconcile()
        case .starting, .ready:
            await failed(name, generation: generation, reason: "exited with \(status)")
        case .stopping:
            units[name]?.state = stopping ? .stopped : .waiting
            changed()
        case .waiting, .backoff, .stopped, .failed, .absent:
            changed()  // an exit already accounted for (a start that failed, then was killed)
        }
    }

    /// A start failed or a running service died: stop what depends on it, then restart it after its
    /// backoff, or give up on the stack.
    func failed(_ name: String, generation: Int, reason: String) async {
        guard var unit = units[name], unit.generation == generation, !stopping else { return }
        guard unit.state == .starting || unit.state == .ready else { return }
        record("\(name): failed: \(reason)")
        let runningSince = unit.readyAt
        unit.state = .backoff
        unit.message = reason
        unit.readyAt = nil
        unit.notifiedReady = false
        let decision = unit.tracker.failed(at: .now, runningSince: runningSince, random: Double.random(in: 0..<1))
        units[name] = unit
        changed()
        if let child = unit.child, child.hasExited == nil {
            // A start that timed out leaves its process running: it goes before the next try.
            child.signalGroup(SIGKILL)
            _ = await child.exitStatus
        }
        await stopDependents(of: name)
        switch decision {
        case .restart(let delay):
            units[name]?.restarts += 1
            record("\(name): restarting in \(delay)")
            Task {
                try? await Task.sleep(for: delay)
                self.backoffElapsed(name, generation: generation)
            }
        case .giveUp(let why):
            units[name]?.state = .failed
            units[name]?.message = "gave up: \(why)"
            record("\(name): giving up: \(why); stopping the stack")
            await stopAll()
            outcome.fulfil(.gaveUp(service: name, reason: "\(name) \(why); last failure: \(reason)"))
        }
    }

    private func backoffElapsed(_ name: String, generation: Int) {
        guard units[name]?.generation == generation, units[name]?.state == .backoff else { return }
        units[name]?.state = .waiting
        reconcile()
    }

    // MARK: - Reporting

    /// Writes `message` to the supervisor's log.
    public func note(_ message: String) { record(message) }

    func record(_ message: String) {
        journal.record(message)
        logger.info("\(message)")
    }

    private func record(probe result: Result<Void, ProbeFailure>, for name: String, began: ContinuousClock.Instant) {
        let latency = ContinuousClock.now - began
        switch result {
        case .success: units[name]?.probe = ProbeReport(ok: true, latency: latency, at: Date(), error: nil)
        case .failure(let failure):
            units[name]?.probe = ProbeReport(ok: false, latency: latency, at: Date(), error: failure.message)
        }
    }

    func updatePhase() {
        if phase == .starting, order.allSatisfy({ [.ready, .absent].contains(units[$0]?.state) }) { phase = nil }
    }

    func changed() {
        updatePhase()
        let report = health()
        for handler in changeHandlers { handler(report) }
    }

    /// The health of the stack now.
    public func health() -> HealthReport {
        let now = ContinuousClock.now
        let services = order.compactMap { name -> ServiceHealth? in
            guard let unit = units[name] else { return nil }
            var health = ServiceHealth(name: name, state: unit.healthState, required: unit.spec.required)
            health.pid = unit.child?.pid
            health.uptime = unit.spawnedAt.map { now - $0 }.map {
                Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18
            }
            health.restarts = unit.restarts
            health.lastExit = unit.lastExit
            health.probe = unit.probe
            health.message = unit.message
            return health
        }
        let uptime = now - startedAt
        return HealthReport(
            uptime: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            services: services,
            phase: phase
        )
    }

    func finish(_ result: Outcome) { outcome.fulfil(result) }
}
