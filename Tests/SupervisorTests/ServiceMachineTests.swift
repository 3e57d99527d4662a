import Health
import Testing

@testable import Supervisor

#if canImport(Glibc)
import Glibc
#endif

/// Every transition of a service's lifecycle, and the restart policy as tables, with no process
/// and no clock: time is a base instant plus offsets.
@Suite struct ServiceMachineTests {
    static let t0 = ContinuousClock.now

    static func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    static func spec(
        readiness: Probe = .tcp(port: 1),
        liveness: Probe? = nil,
        audioPath: Bool = true,
        reportsBoard: Bool = false
    ) -> ServiceSpec {
        var spec = ServiceSpec(name: "svc", executable: "/bin/svc", readiness: readiness)
        spec.liveness = liveness
        spec.audioPath = audioPath
        spec.reportsBoard = reportsBoard
        spec.restart.startSeconds = .seconds(1)
        spec.restart.initialDelay = .milliseconds(100)
        spec.restart.maxDelay = .seconds(5)
        spec.restart.maxRestarts = 3
        spec.restart.window = .seconds(60)
        spec.restart.jitter = 0
        spec.startTimeout = .seconds(10)
        spec.stopTimeout = .seconds(5)
        return spec
    }

    /// A machine that has been started and is ready, at `readyAt` ms, spawned at 0 ms.
    static func ready(_ spec: ServiceSpec = spec(), readyAt: Int = 50) -> ServiceMachine {
        var machine = ServiceMachine(spec: spec)
        _ = machine.event(.dependencies(ready: true))
        _ = machine.event(.spawned(generation: 1, at: at(0)))
        _ = machine.event(.readinessPassed(generation: 1, at: at(readyAt)))
        #expect(machine.state == .ready)
        return machine
    }

    static func spawns(_ actions: [ServiceMachine.Action]) -> [Int] {
        actions.compactMap { if case .spawn(let generation) = $0 { generation } else { nil } }
    }

    static func arms(_ actions: [ServiceMachine.Action]) -> [(ServiceMachine.Timer, Duration, Int)] {
        actions.compactMap { if case .arm(let timer, let delay, let token) = $0 { (timer, delay, token) } else { nil } }
    }

    static func signals(_ actions: [ServiceMachine.Action]) -> [Int32] {
        actions.compactMap { if case .signal(let number) = $0 { number } else { nil } }
    }

    // MARK: - Starting

    @Test func startsOnlyOnceItsDependenciesAreReady() {
        var machine = ServiceMachine(spec: Self.spec())
        #expect(machine.event(.dependencies(ready: false)).isEmpty)
        #expect(machine.state == .waiting)
        #expect(machine.health == .starting)
        #expect(machine.event(.dependencies(ready: true)) == [.spawn(generation: 1)])
        #expect(machine.state == .starting)
        #expect(machine.generation == 1)
    }

    @Test func aProbedServiceIsProbedUntilReadyThenWatched() {
        var machine = ServiceMachine(spec: Self.spec(liveness: .tcp(port: 1)))
        _ = machine.event(.dependencies(ready: true))
        let spawned = machine.event(.spawned(generation: 1, at: Self.at(0)))
        #expect(spawned == [.arm(.startTimeout, after: .seconds(10), token: 1), .probeReadiness(generation: 1)])
        #expect(machine.running)
        let ready = machine.event(.readinessPassed(generation: 1, at: Self.at(30)))
        #expect(ready == [.log("svc: ready"), .probeLiveness(generation: 1)])
        #expect(machine.state == .ready)
        #expect(machine.health == .healthy)
        // The start timeout armed before readiness is stale now.
        #expect(machine.event(.timerFired(.startTimeout, token: 1)).isEmpty)
        #expect(machine.state == .ready)
    }

    @Test func aNotifyServiceIsReadyOnItsOwnWord() {
        var machine = ServiceMachine(spec: Self.spec(readiness: .notify))
        _ = machine.event(.dependencies(ready: true))
        #expect(
            machine.event(.spawned(generation: 1, at: Self.at(0))) == [
                .arm(.startTimeout, after: .seconds(10), token: 1)
            ]
        )
        _ = machine.event(.notified(generation: 1, fields: ["STATUS": "warming up"], at: Self.at(10)))
        #expect(machine.state == .starting)
        #expect(machine.description == "warming up")
        _ = machine.event(.notified(generation: 1, fields: ["READY": "1"], at: Self.at(20)))
        #expect(machine.state == .ready)
    }

    @Test func eventsAboutAnEarlierProcessAreIgnored() {
        var machine = Self.ready()
        #expect(machine.event(.exited(generation: 0, status: .exited(1), collateral: false, at: Self.at(90))).isEmpty)
        #expect(machine.event(.liveness(generation: 2, ok: false)).isEmpty)
        #expect(machine.event(.readinessPassed(generation: 7, at: Self.at(90))).isEmpty)
        #expect(machine.state == .ready)
        #expect(machine.livenessFailures == 0)
    }

    @Test func aMissingProgramIsAbsentAndSoAreItsDependents() {
        var machine = ServiceMachine(spec: Self.spec())
        _ = machine.event(.dependencies(ready: true))
        _ = machine.event(.programMissing(generation: 1, program: "/bin/svc"))
        #expect(machine.state == .absent)
        #expect(machine.health == .absent)
        var dependent = ServiceMachine(spec: Self.spec())
        #expect(dependent.event(.dependencies(ready: false, absent: "svc")).isEmpty)
        #expect(dependent.state == .absent)
        #expect(dependent.description == "needs svc, which is absent")
    }

    @Test func exitCode69WhileStartingMeansItCannotRunHere() {
        var machine = ServiceMachine(spec: Self.spec())
        _ = machine.event(.dependencies(ready: true))
        _ = machine.event(.spawned(generation: 1, at: Self.at(0)))
        let actions = machine.event(.exited(generation: 1, status: .exited(69), collateral: false, at: Self.at(5)))
        #expect(machine.state == .absent)
        #expect(Self.spawns(actions).isEmpty)
    }

    // MARK: - The restart policy

    /// How each death is answered, by when it happens and how the service was then.
    @Test(arguments: [
        // (ready at, died at, restart at once, counted as early)
        (Int?.none, 500, true, true),  // never ready: early
        (50, 500, true, true),  // ready, but died within start_seconds: early
        (50, 999, true, true),
        (50, 1000, true, false),  // ready and ran start_seconds: healthy
        (50, 30_000, true, false),
    ])
    func aDeathIsEarlyOrHealthy(readyAt: Int?, diedAt: Int, immediate: Bool, early: Bool) {
        var machine = ServiceMachine(spec: Self.spec())
        _ = machine.event(.dependencies(ready: true))
        _ = machine.event(.spawned(generation: 1, at: Self.at(0)))
        if let readyAt { _ = machine.event(.readinessPassed(generation: 1, at: Self.at(readyAt))) }
        let actions = machine.event(
            .exited(generation: 1, status: .signalled(SIGKILL), collateral: false, at: Self.at(diedAt))
        )
        #expect(Self.spawns(actions) == (immediate ? [2] : []))
        #expect(machine.tracker.consecutive == (early ? 1 : 0))
        #expect(machine.restarts == 1)
    }

    @Test func earlyDeathsBackOffDoublingThenTheAudioPathGivesUp() {
        var machine = ServiceMachine(spec: Self.spec())
        _ = machine.event(.dependencies(ready: true))
        var delays: [Duration] = []
        var now = 0
        var gaveUp: String?
        for generation in 1...4 {
            _ = machine.event(.spawned(generation: generation, at: Self.at(now)))
            now += 10
            let actions = machine.event(
                .exited(generation: generation, status: .exited(3), collateral: false, at: Self.at(now))
            )
            if Self.spawns(actions) == [generation + 1] { delays.append(.zero) }
            for (timer, delay, token) in Self.arms(actions) where timer == .restart {
                delays.append(delay)
                #expect(machine.state == .backoff)
                #expect(machine.health == .unhealthy)
                now += Int(delay.milliseconds())
                #expect(
                    Self.spawns(machine.event(.timerFired(.restart, token: token))) == [
                        generation + 1
                    ]
                )
            }
            for case .giveUp(let reason) in actions { gaveUp = reason }
        }
        #expect(delays == [.zero, .milliseconds(100), .milliseconds(200)])
        #expect(gaveUp == "svc died early 4 times within 60 s; last failure: exited with exit code 3")
        #expect(machine.state == .failed)
        #expect(machine.health == .failed)
    }

    @Test func theBackoffIsSpreadByTheRandomnessGivenWithTheExit() {
        var spec = Self.spec()
        spec.restart.jitter = 0.2
        var delays: [Duration] = []
        for random in [0.0, 0.999] {
            var machine = ServiceMachine(spec: spec)
            _ = machine.event(.dependencies(ready: true))
            _ = machine.event(.spawned(generation: 1, at: Self.at(0)))
            _ = machine.event(.exited(generation: 1, status: .exited(1), collateral: false, at: Self.at(10)))
            _ = machine.event(.spawned(generation: 2, at: Self.at(20)))
            let second = machine.event(
                .exited(generation: 2, status: .exited(1), collateral: false, at: Self.at(30), random: random)
            )
            delays += Self.arms(second).map(\.1)
        }
        #expect(delays.count == 2)
        #expect(delays[0] == .milliseconds(80))
        #expect(delays[1] > .milliseconds(119) && delays[1] <= .milliseconds(120))
    }

    @Test func outsideTheAudioPathAFailedServiceIsTriedAgainForEver() {
        var machine = ServiceMachine(spec: Self.spec(audioPath: false))
        _ = machine.event(.dependencies(ready: true))
        var now = 0
        for round in 1...10 {
            let generation = machine.generation
            _ = machine.event(.spawned(generation: generation, at: Self.at(now)))
            now += 10
            let actions = machine.event(
                .exited(generation: generation, status: .exited(3), collateral: false, at: Self.at(now))
            )
            #expect(!actions.contains { if case .giveUp = $0 { true } else { false } }, "round \(round)")
            guard Self.spawns(actions).isEmpty else { continue }
            let (timer, delay, token) = Self.arms(actions)[0]
            #expect(timer == .restart)
            if round > 3 {
                #expect(machine.state == .failed)
                #expect(delay == .seconds(5), "past the limit: the capped delay")
                #expect(machine.description?.hasSuffix("trying again every 5 s") == true)
            }
            now += Int(delay.milliseconds())
            #expect(Self.spawns(machine.event(.timerFired(.restart, token: token))).count == 1)
        }
        // A run that turns healthy clears the slate: its next death is restarted at once.
        let generation = machine.generation
        _ = machine.event(.spawned(generation: generation, at: Self.at(now)))
        _ = machine.event(.readinessPassed(generation: generation, at: Self.at(now + 10)))
        #expect(machine.health == .healthy)
        let actions = machine.event(
            .exited(generation: generation, status: .exited(1), collateral: false, at: Self.at(now + 5000))
        )
        #expect(Self.spawns(actions) == [generation + 1])
        #expect(machine.tracker.recent.isEmpty)
    }

    @Test func healthyRunsNeverAddUpToGivingUp() {
        var machine = Self.ready()
        var now = 0
        for generation in 1...50 {
            if generation > 1 {
                _ = machine.event(.spawned(generation: generation, at: Self.at(now)))
                _ = machine.event(.readinessPassed(generation: generation, at: Self.at(now + 20)))
            }
            now += 1500
            let actions = machine.event(
                .exited(generation: generation, status: .signalled(SIGKILL), collateral: false, at: Self.at(now))
            )
            #expect(Self.spawns(actions) == [generation + 1])
        }
        #expect(machine.restarts == 50)
        #expect(machine.state == .starting)
    }

    @Test func aDeathCausedByADependencyWaitsForItAndDoesNotCount() {
        var machine = Self.ready()
        let actions = machine.event(.exited(generation: 1, status: .exited(1), collateral: true, at: Self.at(100)))
        #expect(Self.spawns(actions).isEmpty)
        #expect(machine.state == .waiting)
        #expect(machine.restarts == 0)
        #expect(machine.tracker.consecutive == 0)
        #expect(machine.event(.dependencies(ready: false)).isEmpty)
        #expect(machine.event(.dependencies(ready: true)) == [.spawn(generation: 2)])
    }

    // MARK: - Timeouts and liveness

    @Test func notReadyInTimeIsKilledAndCountsAsEarly() {
        var machine = ServiceMachine(spec: Self.spec())
        _ = machine.event(.dependencies(ready: true))
        _ = machine.event(.spawned(generation: 1, at: Self.at(0)))
        let timeout = machine.event(.timerFired(.startTimeout, token: 1))
        #expect(Self.signals(timeout) == [SIGKILL])
        // A readiness that comes after the verdict does not save it.
        _ = machine.event(.readinessPassed(generation: 1, at: Self.at(10_001)))
        #expect(machine.state == .starting)
        _ = machine.event(.exited(generation: 1, status: .signalled(SIGKILL), collateral: false, at: Self.at(10_002)))
        #expect(machine.message == "not ready within 10 s")
        #expect(machine.tracker.consecutive == 1)
    }

    @Test func failedLivenessChecksKillAtTheThreshold() {
        var machine = Self.ready(Self.spec(liveness: .tcp(port: 1)))
        _ = machine.event(.liveness(generation: 1, ok: false, detail: "refused"))
        #expect(machine.health == .unhealthy)
        _ = machine.event(.liveness(generation: 1, ok: true))
        #expect(machine.health == .healthy, "one success clears the count")
        _ = machine.event(.liveness(generation: 1, ok: false, detail: "refused"))
        _ = machine.event(.liveness(generation: 1, ok: false, detail: "refused"))
        #expect(Self.signals(machine.event(.liveness(generation: 1, ok: false, detail: "refused"))) == [SIGKILL])
        let actions = machine.event(
            .exited(generation: 1, status: .signalled(SIGKILL), collateral: false, at: Self.at(9000))
        )
        #expect(Self.spawns(actions) == [2], "it had run healthy: restarted at once")
        #expect(machine.message == "liveness probe failed 3 times: refused")
    }

    // MARK: - Stopping

    @Test func aDependencyGoingDownStopsItAndItComesBackAfter() {
        var machine = Self.ready()
        let stop = machine.event(.dependencies(ready: false))
        #expect(Self.signals(stop) == [SIGTERM, SIGCONT])
        #expect(Self.arms(stop).map(\.0) == [.stopTimeout])
        #expect(machine.state == .stopping)
        #expect(
            Self.signals(machine.event(.timerFired(.stopTimeout, token: Self.arms(stop)[0].2))) == [
                SIGKILL
            ]
        )
        let exit = machine.event(
            .exited(generation: 1, status: .signalled(SIGKILL), collateral: false, at: Self.at(6001))
        )
        #expect(Self.spawns(exit).isEmpty)
        #expect(machine.state == .waiting)
        #expect(machine.restarts == 0, "stopped on purpose, not a failure")
        #expect(machine.event(.dependencies(ready: true)) == [.spawn(generation: 2)])
    }

    @Test func aStartInFlightIsAbandonedWhenItsDependencyGoes() {
        var machine = ServiceMachine(spec: Self.spec())
        _ = machine.event(.dependencies(ready: true))
        _ = machine.event(.dependencies(ready: false))
        #expect(machine.state == .waiting)
        // The process spawned for the abandoned start is not adopted.
        #expect(machine.event(.spawned(generation: 1, at: Self.at(5))).isEmpty)
        #expect(!machine.running)
    }

    @Test func anOperatorsStopHoldsUntilAnOperatorsStart() {
        var machine = Self.ready()
        _ = machine.event(.operatorStop)
        _ = machine.event(.exited(generation: 1, status: .signalled(SIGTERM), collateral: false, at: Self.at(100)))
        #expect(machine.state == .stopped)
        #expect(machine.description == "stopped by an operator")
        #expect(machine.event(.dependencies(ready: false)).isEmpty)
        #expect(machine.event(.dependencies(ready: true)).isEmpty)
        #expect(machine.state == .stopped)
        #expect(machine.event(.operatorStart) == [.spawn(generation: 2)])
    }

    @Test func anOperatorsRestartStopsThenStartsAndForgetsFailures() {
        var machine = Self.ready()
        let stop = machine.event(.operatorRestart)
        #expect(Self.signals(stop) == [SIGTERM, SIGCONT])
        let exit = machine.event(
            .exited(generation: 1, status: .signalled(SIGTERM), collateral: false, at: Self.at(100))
        )
        #expect(Self.spawns(exit) == [2])
        #expect(machine.restarts == 0)
    }

    @Test func theStackGoingDownStartsNothingMoreAndKeepsWhatFailed() {
        var machine = Self.ready()
        _ = machine.event(.stackStop)
        _ = machine.event(.exited(generation: 1, status: .signalled(SIGTERM), collateral: false, at: Self.at(100)))
        #expect(machine.state == .stopped)
        #expect(machine.event(.dependencies(ready: true)).isEmpty)
        #expect(machine.event(.operatorRestart).isEmpty)

        var failed = ServiceMachine(spec: Self.spec(audioPath: false))
        _ = failed.event(.dependencies(ready: true))
        while failed.state != .failed {
            let generation = failed.generation
            _ = failed.event(.spawned(generation: generation, at: Self.at(0)))
            let actions = failed.event(
                .exited(generation: generation, status: .exited(1), collateral: false, at: Self.at(1))
            )
            for (timer, _, token) in Self.arms(actions) where failed.state == .backoff {
                _ = failed.event(.timerFired(timer, token: token))
            }
        }
        _ = failed.event(.stackStop)
        #expect(failed.state == .failed)
    }

    @Test func aNewSpecRestartsWithIt() {
        var machine = Self.ready()
        var spec = Self.spec()
        spec.arguments = ["--new"]
        _ = machine.event(.respecified(spec))
        #expect(machine.state == .stopping)
        let exit = machine.event(
            .exited(generation: 1, status: .signalled(SIGTERM), collateral: false, at: Self.at(100))
        )
        #expect(Self.spawns(exit) == [2])
        #expect(machine.spec.arguments == ["--new"])
    }

    // MARK: - The pedalboard

    @Test func aServiceThatReportsTheBoardIsHealthyOnlyWhileItPlays() {
        var machine = Self.ready(Self.spec(readiness: .tcp(port: 1), reportsBoard: true))
        #expect(machine.health == .starting)
        #expect(machine.description == "waiting for the pedalboard to be back in the host")
        _ = machine.event(.notified(generation: 1, fields: ["BOARD": "playing"], at: Self.at(100)))
        #expect(machine.health == .healthy)
        _ = machine.event(.boardLost)
        #expect(machine.health == .unhealthy)
        #expect(machine.description == "putting the pedalboard back in the host")
        _ = machine.event(.notified(generation: 1, fields: ["BOARD": "restoring"], at: Self.at(200)))
        #expect(machine.health == .unhealthy)
        _ = machine.event(.notified(generation: 1, fields: ["BOARD": "playing"], at: Self.at(300)))
        #expect(machine.health == .healthy)
        // A new process must say it again.
        _ = machine.event(.exited(generation: 1, status: .exited(1), collateral: false, at: Self.at(5000)))
        _ = machine.event(.spawned(generation: 2, at: Self.at(5001)))
        _ = machine.event(.readinessPassed(generation: 2, at: Self.at(5002)))
        #expect(machine.health == .starting)
    }

    @Test func aServiceThatDoesNotReportTheBoardIgnoresIt() {
        var machine = Self.ready()
        _ = machine.event(.boardLost)
        _ = machine.event(.notified(generation: 1, fields: ["BOARD": "restoring"], at: Self.at(100)))
        #expect(machine.health == .healthy)
    }
}
