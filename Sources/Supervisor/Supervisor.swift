import Foundation
public import Health
import Jack
import Locking
public import Logging
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// Starts the stack in dependency order, watches every child, restarts what fails (with its
/// dependents, OTP's rest_for_one) and stops everything in reverse order.
///
/// Every decision is taken by each service's ``ServiceMachine``; this actor feeds the machines
/// their events and performs what they answer. Everything it starts in the background (spawns,
/// exit watchers, probes, timers, the notify reader) is a child task of ``run()``'s task group,
/// cancelled when the run ends.
public actor Supervisor {
    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        /// Stopped on request; exit 0.
        case stopped
        /// A service on the audio path failed past its restart limit; the stack was stopped. Exit non-zero.
        case gaveUp(service: String, reason: String)
    }

    /// The exit code (sysexits' `EX_UNAVAILABLE`) with which a program starting up says it cannot run
    /// here; its service is reported absent instead of restarted.
    public static let unavailable = ServiceMachine.unavailable

    /// Work for ``run()``'s task group.
    typealias Job = @Sendable () async -> Void

    let configuration: SupervisorConfiguration
    let logger: Logger
    let journal: ServiceLog
    let environment: [String: String]
    var units: [String: Unit] = [:]
    let order: [String]
    let startedAt = ContinuousClock.now
    /// The `jack` probe's kept client, lent to the operator's page for JACK's DSP load and xruns
    /// (a client of the page's own would cost the box a wake-up every cycle).
    nonisolated let watchedJack = Locked<JackWatch?>(nil)
    /// The RPC counts a service's liveness probe last read from its reply (the session's
    /// `health_check` carries them as `rpc`), with when they were read (seconds since 1970), for
    /// the operator's page and `/metrics`: no call of their own.
    nonisolated let rpcTotals = Locked<[String: TimedRPCTotals]>([:])
    var phase: HealthReport.Status? = .starting
    /// The stack is going down: operators' starts are refused.
    var stopping = false
    var stopRequested = false
    private let outcome = OneShot<Outcome>()
    private let jobs: AsyncStream<Job>
    private let jobSink: AsyncStream<Job>.Continuation
    var notify: NotifySocket?
    /// Notify messages from a PID not yet known (a child faster than its spawn's bookkeeping).
    private var earlyNotices: [Int32: [[String: String]]] = [:]
    private var settleWaiters: [OneShot<Void>] = []
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
                fileName: spec.logName,
                maxBytes: configuration.logMaxBytes,
                keep: configuration.logKeep,
                echo: configuration.echoLogs
            )
            units[spec.name] = Unit(spec: spec, log: log, environment: inherited)
        }
        (jobs, jobSink) = AsyncStream<Job>.makeStream()
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
    /// service on the audio path gives up.
    public func run() async -> Outcome {
        record("supervisor \(getpid()) starting: \(order.joined(separator: ", "))")
        await Leftovers.clean(in: configuration.logDirectory) { await self.record($0) }
        do {
            notify = try NotifySocket()
        } catch {
            record("\(error); children cannot report readiness themselves")
        }
        await withDiscardingTaskGroup { group in
            if let messages = notify?.messages {
                // One reader, so a child's messages are handled in the order it sent them.
                group.addTask {
                    for await notice in messages { await self.notified(notice) }
                }
            }
            propagate()
            changed()
            for await job in jobs { group.addTask(operation: job) }
            group.cancelAll()
        }
        notify?.close()
        return outcome.current ?? .stopped
    }

    /// Hands `job` to the run's task group.
    func launch(_ job: @escaping Job) { jobSink.yield(job) }

    func finish(_ result: Outcome) {
        outcome.fulfil(result)
        jobSink.finish()
    }

    // MARK: - Feeding the machines

    /// Gives `event` to `name`'s machine, performs what it answers, and lets the other services
    /// see the change.
    func feed(_ name: String, _ event: ServiceMachine.Event) {
        guard var unit = units[name] else { return }
        let actions = unit.machine.event(event)
        units[name] = unit
        for action in actions { perform(action, for: name) }
        propagate()
        changed()
    }

    /// Tells every service whether its dependencies are ready, until nothing changes any more.
    func propagate() {
        var settled = false
        while !settled {
            settled = true
            for name in order {
                guard let unit = units[name] else { continue }
                let dependencies = unit.machine.spec.dependencies.filter { units[$0] != nil }
                let absent = dependencies.first { units[$0]?.machine.state == .absent }
                let ready = absent == nil && dependencies.allSatisfy { units[$0]?.machine.isReady == true }
                guard unit.told?.ready != ready || unit.told?.absent != absent else { continue }
                units[name]?.told = (ready, absent)
                let actions = units[name]?.machine.event(.dependencies(ready: ready, absent: absent)) ?? []
                for action in actions { perform(action, for: name) }
                settled = false
            }
        }
    }

    private func perform(_ action: ServiceMachine.Action, for name: String) {
        switch action {
        case .spawn(let generation):
            launch { await self.spawn(name, generation: generation) }
        case .probeReadiness(let generation):
            launch { await self.probeReadiness(name, generation: generation) }
        case .probeLiveness(let generation):
            launch { await self.probeLiveness(name, generation: generation) }
        case .signal(let number):
            units[name]?.child?.signalGroup(number)
        case .arm(let timer, let delay, let token):
            launch {
                guard (try? await Task.sleep(for: delay)) != nil else { return }
                await self.feed(name, .timerFired(timer, token: token))
            }
        case .log(let line):
            record(line)
        case .giveUp(let reason):
            launch { await self.giveUp(name, reason: reason) }
        }
    }

    private func isCurrent(_ name: String, _ generation: Int, _ state: ServiceMachine.State) -> Bool {
        guard let machine = units[name]?.machine else { return false }
        return machine.generation == generation && machine.running && machine.state == state
    }

    // MARK: - Processes

    private func spawn(_ name: String, generation: Int) async {
        guard let unit = units[name], unit.machine.generation == generation, unit.machine.state == .starting else {
            return
        }
        let spec = unit.machine.spec
        // A service starts again only once what depends on it has let go of it: a JACK server is
        // not started while the clients of the one before are still closing.
        for dependent in order where units[dependent]?.machine.spec.dependencies.contains(name) == true {
            if let old = units[dependent]?.child, old.hasExited == nil { _ = try? await old.exitStatus }
        }
        guard units[name]?.machine.generation == generation, units[name]?.machine.state == .starting else { return }
        if case .jack = spec.readiness, JackMetadataLocks.clearIfUnused() {
            record("\(name): cleared JACK's metadata lock files, unused (a killed JACK process can leave them locked)")
        }
        guard let executable = ExecutableLookup.find(spec.executable, environment: environment) else {
            return feed(name, .programMissing(generation: generation, program: spec.executable))
        }
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
            return feed(
                name,
                .spawnFailed(
                    generation: generation,
                    reason: "cannot open its log: \(error)",
                    at: .now,
                    random: .random(in: 0..<1)
                )
            )
        }
        let child: ChildProcess
        do {
            child = try await ChildProcess.spawn(command)
        } catch {
            return feed(
                name,
                .spawnFailed(generation: generation, reason: "\(error)", at: .now, random: .random(in: 0..<1))
            )
        }
        guard units[name]?.machine.generation == generation, units[name]?.machine.state == .starting else {
            // Stopped or superseded while spawning: this process is not wanted.
            child.signalGroup(SIGKILL)
            launch { _ = try? await child.exitStatus }
            return
        }
        units[name]?.child = child
        Leftovers.remember(child, name: name, in: configuration.logDirectory)
        record("\(name): started \(executable) as pid \(child.pid)")
        launch {
            guard let status = try? await child.exitStatus else { return }
            await self.exited(name, generation: generation, child: child, status: status)
        }
        feed(name, .spawned(generation: generation, at: .now))
        for fields in earlyNotices.removeValue(forKey: child.pid) ?? [] {
            feed(name, .notified(generation: generation, fields: fields, at: .now))
        }
    }

    func exited(_ name: String, generation: Int, child: ChildProcess, status: ExitStatus) {
        guard let unit = units[name], unit.child === child else { return }
        if let watch = unit.jackWatch { watchedJack.withLock { if $0 === watch { $0 = nil } } }
        unit.jackWatch?.close()
        units[name]?.jackWatch = nil
        rpcTotals.withLock { $0[name] = nil }
        units[name]?.lastExit = LastExit(
            code: { if case .exited(let code) = status { code } else { nil } }(),
            signal: { if case .signalled(let number) = status { signalName(number) } else { nil } }(),
            at: Date()
        )
        // A dependency whose process is already dead (its own exit not handled yet) caused this one.
        let collateral = unit.machine.spec.dependencies.contains { units[$0]?.child?.isAlive == false }
        if unit.machine.spec.audioPath {
            // Whatever the session had put in the host is gone with it.
            for name in order where units[name]?.machine.spec.reportsBoard == true { feed(name, .boardLost) }
        }
        feed(
            name,
            .exited(
                generation: generation,
                status: status,
                collateral: collateral,
                at: .now,
                random: .random(in: 0..<1)
            )
        )
        if units[name]?.child === child { units[name]?.child = nil }
    }

    /// A `READY=1` (or other state) from a child over the notify socket, matched by sender PID.
    private func notified(_ notice: NotifySocket.Notice) {
        guard let name = order.first(where: { units[$0]?.child?.pid == notice.pid }), let unit = units[name] else {
            // Perhaps a child whose spawn is still being recorded; kept for a moment, bounded.
            if earlyNotices.count > 32 { earlyNotices.removeAll() }
            earlyNotices[notice.pid, default: []].append(notice.fields)
            return
        }
        feed(name, .notified(generation: unit.machine.generation, fields: notice.fields, at: .now))
    }

    // MARK: - Probes

    private func probeReadiness(_ name: String, generation: Int) async {
        guard let spec = units[name]?.machine.spec else { return }
        while isCurrent(name, generation, .starting) {
            let began = ContinuousClock.now
            let result = await ProbeRunner.check(spec.readiness, timeout: spec.probe.timeout)
            guard isCurrent(name, generation, .starting) else { return }
            record(probe: result, for: name, began: began)
            if case .success = result { return feed(name, .readinessPassed(generation: generation, at: .now)) }
            guard (try? await Task.sleep(for: spec.probe.readinessInterval)) != nil else { return }
        }
    }

    private func probeLiveness(_ name: String, generation: Int) async {
        guard let spec = units[name]?.machine.spec, let probe = spec.liveness else { return }
        var client: RPCClient?
        if case .rpc(let endpoint, _) = probe {
            client = RPCClient(RPCClientConfiguration(endpoint: endpoint, timeout: spec.probe.timeout))
        }
        var jack: JackWatch?
        if case .jack(let server) = probe {
            jack = JackWatch(server: server)
            units[name]?.jackWatch = jack
            watchedJack.withLock { $0 = jack }
        }
        while isCurrent(name, generation, .ready) {
            guard (try? await Task.sleep(for: spec.probe.interval)) != nil, isCurrent(name, generation, .ready) else {
                break
            }
            let began = ContinuousClock.now
            let result = await ProbeRunner.check(probe, timeout: spec.probe.timeout, client: client, jack: jack) {
                [rpcTotals] answer in
                guard let rpc = answer["rpc"], let totals = RPCTotals(json: rpc) else { return }
                let read = TimedRPCTotals(time: Date().timeIntervalSince1970, totals: totals)
                rpcTotals.withLock { $0[name] = read }
            }
            guard isCurrent(name, generation, .ready) else { break }
            record(probe: result, for: name, began: began)
            switch result {
            case .success: feed(name, .liveness(generation: generation, ok: true))
            case .failure(let failure):
                feed(name, .liveness(generation: generation, ok: false, detail: failure.message))
            }
        }
        await client?.shutdown()
        jack?.close()
    }

    private func record(probe result: Result<Void, ProbeFailure>, for name: String, began: ContinuousClock.Instant) {
        let latency = ContinuousClock.now - began
        switch result {
        case .success: units[name]?.probe = ProbeReport(ok: true, latency: latency, at: Date(), error: nil)
        case .failure(let failure):
            units[name]?.probe = ProbeReport(ok: false, latency: latency, at: Date(), error: failure.message)
        }
    }

    // MARK: - Reporting

    /// Writes `message` to the supervisor's log.
    public func note(_ message: String) { record(message) }

    func record(_ message: String) {
        journal.record(message)
        logger.info("\(message)")
    }

    func changed() {
        if phase == .starting,
            order.allSatisfy({ [.ready, .absent, .failed].contains(units[$0]?.machine.state) })
        {
            phase = nil
        }
        if !settleWaiters.isEmpty, !isSettling {
            for waiter in settleWaiters { waiter.fulfil(()) }
            settleWaiters.removeAll()
        }
        let report = health()
        for handler in changeHandlers { handler(report) }
    }

    var isSettling: Bool { order.contains { units[$0]?.machine.isSettling == true } }

    /// Waits until no service is starting, backing off or stopping (at most `timeout`): what
    /// `READY=1` after a reload waits for.
    public func settled(timeout: Duration) async {
        guard isSettling else { return }
        let signal = OneShot<Void>()
        settleWaiters.append(signal)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await signal.value }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// The health of the stack now.
    public func health() -> HealthReport {
        let now = ContinuousClock.now
        let services = order.compactMap { name -> ServiceHealth? in
            guard let unit = units[name] else { return nil }
            let machine = unit.machine
            var health = ServiceHealth(name: name, state: machine.health, required: machine.spec.required)
            health.audioPath = machine.spec.audioPath
            health.pid = unit.child?.pid
            health.uptime = machine.running ? machine.spawnedAt.map { (now - $0).inSeconds } : nil
            health.restarts = machine.restarts
            health.lastExit = unit.lastExit
            health.probe = unit.probe
            health.message = machine.description
            return health
        }
        return HealthReport(uptime: (now - startedAt).inSeconds, services: services, phase: phase)
    }
}
