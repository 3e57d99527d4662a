import Testing

@testable import Supervisor

/// The restart decisions, with no processes and no clock.
@Suite struct RestartTrackerTests {
    static func policy() -> RestartPolicy {
        var policy = RestartPolicy()
        policy.initialDelay = .milliseconds(100)
        policy.maxDelay = .seconds(1)
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
            if case .restart(let delay) = tracker.earlyDeath(at: start + .seconds(index), random: 0.5) {
                delays.append(delay)
            }
        }
        #expect(delays == [.zero, .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
        #expect(tracker.delay(forAttempt: 9, random: 0.5) == .seconds(1))
        #expect(tracker.cappedDelay(random: 0.5) == .seconds(1))
    }

    @Test func jitterSpreadsTheDelayWithinItsFraction() {
        let tracker = RestartTracker(policy: Self.policy())
        #expect(tracker.delay(forAttempt: 3, random: 0) == .milliseconds(160))
        #expect(tracker.delay(forAttempt: 3, random: 0.999_999) > .milliseconds(239))
        #expect(tracker.delay(forAttempt: 1, random: 0.9) == .zero)
        #expect(tracker.cappedDelay(random: 0) == .milliseconds(800))
    }

    @Test func theSixthEarlyDeathWithinTheWindowIsOverTheLimit() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        for index in 0..<5 {
            guard case .restart = tracker.earlyDeath(at: start + .seconds(index), random: 0.5) else {
                Issue.record("over the limit too early at \(index)")
                return
            }
        }
        #expect(
            tracker.earlyDeath(at: start + .seconds(5), random: 0.5)
                == .overLimit(reason: "died early 6 times within 60 s")
        )
    }

    @Test func oldDeathsLeaveTheWindow() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        for index in 0..<5 { _ = tracker.earlyDeath(at: start + .seconds(index), random: 0.5) }
        // Two minutes later the earlier deaths no longer count (the backoff still does).
        #expect(tracker.earlyDeath(at: start + .seconds(130), random: 0.5) == .restart(after: .seconds(1)))
        #expect(tracker.recent.count == 1)
    }

    @Test func aHealthyRunClearsEverything() {
        var tracker = RestartTracker(policy: Self.policy())
        let start = ContinuousClock.now
        for index in 0..<5 { _ = tracker.earlyDeath(at: start + .milliseconds(index), random: 0.5) }
        tracker.healthyRunEnded()
        #expect(tracker.consecutive == 0)
        #expect(tracker.recent.isEmpty)
        #expect(tracker.earlyDeath(at: start + .seconds(2), random: 0.5) == .restart(after: .zero))
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
