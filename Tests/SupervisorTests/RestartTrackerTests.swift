import Testing

@testable import Supervisor

/// The restart decisions, with no processes and no clock.
@Suite struct RestartTrackerTests {
    static func policy() -> RestartPolicy {
        var policy = RestartPolicy()
        policy.initialDelay = .milliseconds(100)
        policy.maxDelay = .seconds(1)
        policy.resetAfter = .seconds(30)
        policy.maxRestarts = 5
        policy.window = .seconds(60)
        policy.jitter = 0.2
        return policy
    }

    @Test func firstRestartIsImmediateThenDoublesUpToTheCap() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        var delays: [Duration] = []
        for index in 0..<5 {
            if case .restart(let delay) = tracker.failed(
                at: start + .seconds(index),
                runningSince: nil,
                random: 0.5
            ) {
                delays.append(delay)
            }
        }
        #expect(delays == [.zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
        #expect(tracker.delay(forAttempt: 9, random: 0.5) == .seconds(1))
    }

    @Test func jitterSpreadsTheDelayWithinItsFraction() {
        let tracker = RestartTracker(policy: Self.policy())
        #expect(tracker.delay(forAttempt: 3, random: 0) == .milliseconds(160))
        #expect(tracker.delay(forAttempt: 3, random: 0.999_999) > .milliseconds(239))
        #expect(tracker.delay(forAttempt: 1, random: 0.9) == .zero)
    }

    @Test func intensityLimitGivesUp() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        for index in 0..<5 {
            guard case .restart = tracker.failed(at: start + .seconds(index), runningSince: nil, random: 0.5) else {
                Issue.record("gave up too early at \(index)")
                return
            }
        }
        guard case .giveUp(let reason) = tracker.failed(at: start + .seconds(5), runningSince: nil, random: 0.5) else {
            Issue.record("a sixth failure within the window must give up")
            return
        }
        #expect(reason.contains("5 times"))
    }

    @Test func oldRestartsLeaveTheWindow() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        for index in 0..<5 { _ = tracker.failed(at: start + .seconds(index), runningSince: nil, random: 0.5) }
        // Two minutes later the earlier restarts no longer count.
        guard case .restart = tracker.failed(at: start + .seconds(130), runningSince: nil, random: 0.5) else {
            Issue.record("restarts outside the window still counted")
            return
        }
    }

    @Test func aStableRunResetsTheBackoff() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        _ = tracker.failed(at: start, runningSince: nil, random: 0.5)
        _ = tracker.failed(at: start + .seconds(1), runningSince: start, random: 0.5)
        #expect(tracker.consecutive == 2)
        let decision = tracker.failed(at: start + .seconds(40), runningSince: start + .seconds(2), random: 0.5)
        #expect(decision == .restart(after: .zero))
        #expect(tracker.consecutive == 1)
    }
}

@Suite struct StartOrderTests {
    @Test func everyServiceComesAfterWhatItNeeds() {
        func spec(_ name: String, _ dependencies: [String]) -> ServiceSpec {
            var spec = ServiceSpec(name: name, executable: "/bin/true", readiness: .spawned)
            spec.dependencies = dependencies
            return spec
        }
        let order = Supervisor.startOrder([
            spec("monitor", ["bridge"]), spec("jack", []), spec("bridge", ["host"]), spec("host", ["jack"]),
            spec("session", ["jack", "elsewhere"]),
        ])
        #expect(order == ["jack", "host", "bridge", "monitor", "session"])
    }
}
