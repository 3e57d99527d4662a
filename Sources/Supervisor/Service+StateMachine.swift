import Health
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// The lifecycle of one supervised service, as a pure value: the supervisor feeds it every event
/// about the service and performs the actions it returns. No other code decides a service's state.
///
/// Each process gets a new ``generation``; events about an earlier process carry its generation
/// and are ignored here, in one place. Time comes in with the events that need it, so tests drive
/// every transition without processes or a clock.
///
/// The policy:
/// - a death after the service was ready and had run for `startSeconds` is restarted at once
///   and held against nothing; an early death (before ready, or sooner) backs off and counts;
/// - past `maxRestarts` early deaths within the window, a service outside the audio path is
///   `failed` and tried again every `maxDelay` for as long as it takes, while a service on the
///   audio path (JACK, the host) asks the supervisor to give up on the stack;
/// - a death while a dependency is down is the dependency's fault: the service waits for it;
/// - a service that reports its pedalboard is healthy only once the board is back in the host.
struct ServiceMachine: Sendable {
    enum State: Equatable, Sendable {
        /// Not running; starts once its dependencies are ready.
        case waiting
        /// Spawned (or being spawned), not yet ready.
        case starting
        case ready
        /// Died early; waiting out its backoff.
        case backoff
        /// Told to stop; what follows once it has exited is ``ServiceMachine/afterStop``.
        case stopping
        /// Stopped by an operator or with the stack; starts only when asked.
        case stopped
        /// Past its restart limit (tried again after the capped delay when outside the audio path).
        case failed
        /// Its program is not installed, or says it cannot run here, or a dependency is absent.
        case absent
    }

    enum Timer: Sendable, Equatable {
        /// The backoff (or a failed service's retry delay) has passed.
        case restart
        /// Readiness did not come within the start timeout.
        case startTimeout
        /// The stop signal was not obeyed within the stop timeout.
        case stopTimeout
    }

    enum Event: Sendable, Equatable {
        /// Whether every dependency is ready now, or the name of one that is absent.
        case dependencies(ready: Bool, absent: String? = nil)
        /// The process of `generation` runs.
        case spawned(generation: Int, at: ContinuousClock.Instant)
        /// It could not be spawned (its log could not open, `posix_spawn` failed). `random`, in
        /// `0..<1`, spreads the backoff (the jitter).
        case spawnFailed(generation: Int, reason: String, at: ContinuousClock.Instant, random: Double = 0.5)
        /// Its program is nowhere to be found.
        case programMissing(generation: Int, program: String)
        /// The readiness probe passed.
        case readinessPassed(generation: Int, at: ContinuousClock.Instant)
        /// A message from the process over the notify socket (`READY=1`, `STATUS=…`, `BOARD=…`).
        case notified(generation: Int, fields: [String: String], at: ContinuousClock.Instant)
        /// One liveness check.
        case liveness(generation: Int, ok: Bool, detail: String? = nil)
        /// The process exited. `collateral`: a dependency's process was already dead then. `random`,
        /// in `0..<1`, spreads the backoff (the jitter).
        case exited(
            generation: Int,
            status: ExitStatus,
            collateral: Bool,
            at: ContinuousClock.Instant,
            random: Double = 0.5
        )
        case timerFired(Timer, token: Int)
        /// The host or JACK went down: whatever this service put in the host is gone.
        case boardLost
        case operatorStop
        case operatorStart
        case operatorRestart
        /// A new spec (a reloaded config): restart with it, counters cleared.
        case respecified(ServiceSpec)
        /// The stack is going down: stop, and start no more.
        case stackStop
    }

    enum Action: Sendable, Equatable {
        /// Look up the program and spawn it as `generation`.
        case spawn(generation: Int)
        /// Probe readiness until it passes (not for `notify` services: their `READY=1` is the event).
        case probeReadiness(generation: Int)
        /// Check liveness periodically while the process of `generation` is ready.
        case probeLiveness(generation: Int)
        /// Signal the current process's whole group.
        case signal(Int32)
        /// Fire `timer` after the delay, carrying `token` (a timer armed again makes older ones stale).
        case arm(Timer, after: Duration, token: Int)
        /// A line for the supervisor's log.
        case log(String)
        /// The audio path is past its limit: stop the stack and exit non-zero.
        case giveUp(String)
    }

    /// Whether the pedalboard this service keeps is in the host.
    enum Board: Sendable, Equatable {
        /// Not yet reported since the process started.
        case unknown
        case restoring
        case playing
    }

    private(set) var spec: ServiceSpec
    private(set) var state = State.waiting
    /// Bumped at every spawn.
    private(set) var generation = 0
    /// Whether the process of ``generation`` was spawned and has not exited.
    private(set) var running = false
    private(set) var spawnedAt: ContinuousClock.Instant?
    private(set) var readyAt: ContinuousClock.Instant?
    private(set) var tracker: RestartTracker
    /// Restarts performed, for the report.
    private(set) var restarts = 0
    private(set) var livenessFailures = 0
    /// Why the service is not healthy, in words; `nil` when it is.
    private(set) var message: String?
    /// The last `STATUS=` the process sent.
    private(set) var status: String?
    private(set) var board = Board.unknown
    /// What ``State/stopping`` turns into once the process is gone.
    private(set) var afterStop = State.waiting
    private var dependenciesReady = false
    /// Set once the stack goes down: nothing starts again.
    private var retired = false
    /// Why the supervisor killed the current process (a start timeout, failed liveness checks).
    private var killReason: String?
    private var timerTokens: [Timer: Int] = [:]
    private var nextToken = 0

    init(spec: ServiceSpec) {
        self.spec = spec
        tracker = RestartTracker(policy: spec.restart)
    }

    /// Whether dependents may start: the service is ready (its board need not be back yet).
    var isReady: Bool { state == .ready }

    /// Whether the service is on its way somewhere (what a reload waits out); a service waiting for
    /// a dependency waits on that dependency's state.
    var isSettling: Bool { [.starting, .backoff, .stopping].contains(state) }

    /// The state every health face reports.
    var health: ServiceState {
        switch state {
        case .waiting, .starting: return .starting
        case .ready:
            if livenessFailures > 0 { return .unhealthy }
            guard spec.reportsBoard else { return .healthy }
            switch board {
            case .playing: return .healthy
            case .unknown: return .starting
            case .restoring: return .unhealthy
            }
        case .backoff: return .unhealthy
        case .stopping: return .stopping
        case .stopped: return .stopped
        case .failed: return .failed
        case .absent: return .absent
        }
    }

    /// What the report says about the service: the supervisor's reason, else the process's own status.
    var description: String? {
        if state == .ready, spec.reportsBoard, board != .playing, livenessFailures == 0 {
            return board == .unknown
                ? "waiting for the pedalboard to be back in the host" : "putting the pedalboard back in the host"
        }
        return message ?? status
    }

    // MARK: - Events

    mutating func event(_ event: Event) -> [Action] {
        switch event {
        case .dependencies(let ready, let absent):
            return dependenciesChanged(ready: ready, absent: absent)
        case .spawned(let generation, let now):
            guard generation == self.generation, state == .starting, !running else { return [] }
            running = true
            spawnedAt = now
            board = .unknown
            return [.arm(.startTimeout, after: spec.startTimeout, token: arm(.startTimeout))]
                + (spec.readiness == .notify ? [] : [.probeReadiness(generation: generation)])
        case .spawnFailed(let generation, let reason, let now, let random):
            guard generation == self.generation, state == .starting, !running else { return [] }
            return died(reason: reason, early: true, at: now, random: random)
        case .programMissing(let generation, let program):
            guard generation == self.generation, state == .starting, !running else { return [] }
            state = .absent
            message = "\(program) is not installed"
            return [.log("\(spec.name): absent (\(program) not found)")]
        case .readinessPassed(let generation, let now):
            guard generation == self.generation, running else { return [] }
            return becameReady(at: now)
        case .notified(let generation, let fields, let now):
            guard generation == self.generation, running else { return [] }
            return notified(fields, at: now)
        case .liveness(let generation, let ok, let detail):
            guard generation == self.generation, running, state == .ready, killReason == nil else { return [] }
            return livenessChecked(ok: ok, detail: detail)
        case .exited(let generation, let status, let collateral, let now, let random):
            guard generation == self.generation, running else { return [] }
            return exited(status, collateral: collateral, at: now, random: random)
        case .timerFired(let timer, let token):
            guard timerTokens[timer] == token else { return [] }
            timerTokens[timer] = nil
            return timerFired(timer)
        case .boardLost:
            guard spec.reportsBoard, board == .playing else { return [] }
            board = .restoring
            return []
        case .operatorStop:
            return stop(then: .stopped, message: "stopped by an operator")
        case .operatorStart:
            guard [.stopped, .failed, .backoff].contains(state), !retired else { return [] }
            tracker = RestartTracker(policy: spec.restart)
            message = nil
            state = .waiting
            return startIfPossible()
        case .operatorRestart:
            guard state != .absent, !retired else { return [] }
            tracker = RestartTracker(policy: spec.restart)
            return restartNow(log: "\(spec.name): restart requested")
        case .respecified(let spec):
            self.spec = spec
            tracker = RestartTracker(policy: spec.restart)
            guard state != .absent else {
                state = .waiting
                return startIfPossible()
            }
            return restartNow(log: "\(spec.name): restarting with its new settings")
        case .stackStop:
            retired = true
            guard state != .failed else {
                // What gave up stays `failed` in the last report.
                timerTokens[.restart] = nil
                return []
            }
            return stop(then: .stopped, message: "stopped with the stack")
        }
    }

    // MARK: - Transitions

    private mutating func dependenciesChanged(ready: Bool, absent: String?) -> [Action] {
        dependenciesReady = ready
        if let absent {
            guard state == .waiting else { return [] }
            state = .absent
            message = "needs \(absent), which is absent"
            return []
        }
        if state == .absent, message?.hasPrefix("needs ") == true {
            // The dependency is back (a reload installed it): try again.
            state = .waiting
            message = nil
        }
        if ready { return startIfPossible() }
        switch state {
        case .starting, .ready:
            return stop(then: .waiting, message: "waiting for its dependencies")
        case .backoff:
            timerTokens[.restart] = nil
            state = .waiting
            return []
        case .stopping:
            if afterStop != .stopped { afterStop = .waiting }
            return []
        case .waiting, .stopped, .failed, .absent:
            if state == .waiting { message = "waiting for its dependencies" }
            return []
        }
    }

    private mutating func startIfPossible() -> [Action] {
        guard state == .waiting, dependenciesReady, !retired else { return [] }
        generation += 1
        state = .starting
        running = false
        spawnedAt = nil
        readyAt = nil
        livenessFailures = 0
        killReason = nil
        status = nil
        if message == "waiting for its dependencies" { message = nil }
        return [.spawn(generation: generation)]
    }

    private mutating func becameReady(at now: ContinuousClock.Instant) -> [Action] {
        guard state == .starting, killReason == nil else { return [] }
        state = .ready
        readyAt = now
        message = nil
        timerTokens[.startTimeout] = nil
        var actions: [Action] = [.log("\(spec.name): ready")]
        if spec.liveness != nil { actions.append(.probeLiveness(generation: generation)) }
        return actions
    }

    private mutating func notified(_ fields: [String: String], at now: ContinuousClock.Instant) -> [Action] {
        if let status = fields["STATUS"] { self.status = status }
        if spec.reportsBoard, let report = fields["BOARD"] {
            let previous = board
            board = report == "playing" ? .playing : .restoring
            if board == .playing, previous != .playing {
                return [.log("\(spec.name): the pedalboard plays")] + readyIfNotified(fields, at: now)
            }
        }
        return readyIfNotified(fields, at: now)
    }

    private mutating func readyIfNotified(_ fields: [String: String], at now: ContinuousClock.Instant) -> [Action] {
        guard fields["READY"] == "1", spec.readiness == .notify else { return [] }
        return becameReady(at: now)
    }

    private mutating func livenessChecked(ok: Bool, detail: String?) -> [Action] {
        guard !ok else {
            livenessFailures = 0
            return []
        }
        livenessFailures += 1
        let threshold = spec.probe.failureThreshold
        var actions: [Action] = [
            .log("\(spec.name): liveness probe failed (\(livenessFailures)/\(threshold)): \(detail ?? "no answer")")
        ]
        if livenessFailures >= threshold {
            // Hung: kill it; its exit then takes the usual way.
            killReason = "liveness probe failed \(livenessFailures) times: \(detail ?? "no answer")"
            actions.append(.signal(SIGKILL))
        }
        return actions
    }

    private mutating func exited(
        _ status: ExitStatus,
        collateral: Bool,
        at now: ContinuousClock.Instant,
        random: Double
    ) -> [Action] {
        running = false
        timerTokens[.startTimeout] = nil
        timerTokens[.stopTimeout] = nil
        // Whatever the child left in its group (a grandchild holding its pipes) goes with it.
        var actions: [Action] = [.signal(SIGKILL), .log("\(spec.name): exited with \(status)")]
        switch state {
        case .stopping:
            state = afterStop
            if afterStop == .waiting { actions += startIfPossible() }
            return actions
        case .starting where status == .exited(Self.unavailable) && killReason == nil:
            state = .absent
            message = "\(spec.executable) reported itself unavailable (exit \(Self.unavailable))"
            return actions + [.log("\(spec.name): absent (its program exited \(Self.unavailable), unavailable)")]
        case .starting, .ready:
            let reason = killReason ?? "exited with \(status)"
            if collateral {
                // A dependency died first: this death is its fault, and this service waits for it.
                state = .waiting
                message = "waiting for its dependencies"
                return actions
            }
            let healthy = state == .ready && spawnedAt.map { now - $0 >= spec.restart.startSeconds } ?? false
            return actions + died(reason: reason, early: !healthy, at: now, random: random)
        case .waiting, .backoff, .stopped, .failed, .absent:
            return actions
        }
    }

    /// A start failed or a running process died: restart at once, back off, or give up.
    private mutating func died(
        reason: String,
        early: Bool,
        at now: ContinuousClock.Instant,
        random: Double
    )
        -> [Action]
    {
        running = false
        readyAt = nil
        killReason = nil
        restarts += 1
        guard early else {
            tracker.healthyRunEnded()
            message = reason
            state = .waiting
            return [.log("\(spec.name): \(reason) after a healthy run; restarting at once")] + startIfPossible()
        }
        switch tracker.earlyDeath(at: now, random: random) {
        case .restart(let delay) where delay == .zero:
            message = reason
            state = .waiting
            return [.log("\(spec.name): failed: \(reason); restarting at once")] + startIfPossible()
        case .restart(let delay):
            message = reason
            state = .backoff
            return [
                .log("\(spec.name): failed: \(reason); restarting in \(delay.readable)"),
                .arm(.restart, after: delay, token: arm(.restart)),
            ]
        case .overLimit(let why):
            state = .failed
            if spec.audioPath {
                message = "gave up: \(why); last failure: \(reason)"
                return [
                    .log("\(spec.name): giving up: \(why)"), .giveUp("\(spec.name) \(why); last failure: \(reason)"),
                ]
            }
            let delay = tracker.cappedDelay(random: random)
            message = "\(why); last failure: \(reason); trying again every \(spec.restart.maxDelay.readable)"
            return [
                .log(
                    "\(spec.name): failed: \(why) (\(reason)); outside the audio path, trying again in \(delay.readable)"
                ),
                .arm(.restart, after: delay, token: arm(.restart)),
            ]
        }
    }

    private mutating func timerFired(_ timer: Timer) -> [Action] {
        switch timer {
        case .restart:
            guard state == .backoff || state == .failed else { return [] }
            state = .waiting
            return startIfPossible()
        case .startTimeout:
            guard state == .starting, running, killReason == nil else { return [] }
            killReason = "not ready within \(spec.startTimeout.readable)"
            return [.log("\(spec.name): \(killReason ?? "")"), .signal(SIGKILL)]
        case .stopTimeout:
            guard state == .stopping, running else { return [] }
            return [
                .log(
                    "\(spec.name): still running \(spec.stopTimeout.readable) after \(signalName(spec.stopSignal)); SIGKILL"
                ),
                .signal(SIGKILL),
            ]
        }
    }

    /// Stops the process if there is one; once it has exited the state becomes `then`.
    private mutating func stop(then next: State, message: String) -> [Action] {
        switch state {
        case .absent:
            return []
        case .stopping:
            if next == .stopped {
                afterStop = .stopped
                self.message = message
            }
            return []
        case .starting, .ready:
            timerTokens[.startTimeout] = nil
            self.message = message
            guard running else {
                // Being spawned: the process, when it comes, is not wanted.
                generation += 1
                state = next
                return [.log("\(spec.name): \(message)")]
            }
            state = .stopping
            afterStop = next
            return [
                .log("\(spec.name): sending \(signalName(spec.stopSignal)) to its process group"),
                .signal(spec.stopSignal), .signal(SIGCONT),
                .arm(.stopTimeout, after: spec.stopTimeout, token: arm(.stopTimeout)),
            ]
        case .waiting, .backoff, .failed, .stopped:
            // Only ever asked to become `stopped` here: nothing runs to be stopped.
            timerTokens[.restart] = nil
            state = next
            self.message = message
            return []
        }
    }

    /// Stops the process (if any) and starts a new one as soon as it is gone and the dependencies allow.
    private mutating func restartNow(log line: String) -> [Action] {
        message = nil
        switch state {
        case .starting, .ready:
            return [.log(line)] + stop(then: .waiting, message: "restarting")
        case .stopping:
            afterStop = .waiting
            return [.log(line)]
        case .waiting, .backoff, .failed, .stopped, .absent:
            timerTokens[.restart] = nil
            state = .waiting
            return [.log(line)] + startIfPossible()
        }
    }

    private mutating func arm(_ timer: Timer) -> Int {
        nextToken += 1
        timerTokens[timer] = nextToken
        return nextToken
    }

    /// The exit code (sysexits' `EX_UNAVAILABLE`) with which a program starting up says it cannot run
    /// here; its service is reported absent instead of restarted.
    static let unavailable: Int32 = 69
}
