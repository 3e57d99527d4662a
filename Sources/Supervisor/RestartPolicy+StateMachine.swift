import Messaging

/// Counts one service's early deaths and says how long to wait before the next start.
///
/// Only early deaths count (before ready, or within ``RestartPolicy/startSeconds`` of the spawn):
/// a service that ran healthy and then died is restarted at once and its count starts over, as
/// supervisord's `startsecs` and s6's "up for more than a second" rule do.
///
/// Pure: time and randomness come in as arguments, so tests drive it without a clock.
struct RestartTracker: Sendable {
    enum Decision: Equatable {
        /// Start again after this delay.
        case restart(after: Duration)
        /// More early deaths within the window than the policy allows; retry, if at all, after
        /// ``RestartTracker/cappedDelay(random:)``.
        case overLimit(reason: String)
    }

    let policy: RestartPolicy
    /// Early deaths within the window, oldest first.
    private(set) var recent: [ContinuousClock.Instant] = []
    /// Early deaths in a row; sets the backoff.
    private(set) var consecutive = 0

    init(policy: RestartPolicy) { self.policy = policy }

    /// A run that counted as healthy ended: the next start is immediate and nothing is held against it.
    mutating func healthyRunEnded() {
        consecutive = 0
        recent.removeAll()
    }

    /// The service died early (or never became ready) at `now`. `random` is a value in `0..<1`
    /// for the jitter.
    mutating func earlyDeath(at now: ContinuousClock.Instant, random: Double) -> Decision {
        recent.removeAll { now - $0 > policy.window }
        recent.append(now)
        consecutive += 1
        guard recent.count <= policy.maxRestarts else {
            return .overLimit(reason: "died early \(recent.count) times within \(policy.window.readable)")
        }
        return .restart(after: delay(forAttempt: consecutive, random: random))
    }

    /// The first restart is immediate; then `initialDelay`, doubling up to `maxDelay`, each spread
    /// by the jitter.
    func delay(forAttempt attempt: Int, random: Double) -> Duration {
        guard attempt > 1 else { return .zero }
        var base = policy.initialDelay
        for _ in 2..<attempt where base < policy.maxDelay { base *= 2 }
        return jittered(min(base, policy.maxDelay), random: random)
    }

    /// The wait between tries of a service past its limit: the longest backoff.
    func cappedDelay(random: Double) -> Duration { jittered(policy.maxDelay, random: random) }

    private func jittered(_ base: Duration, random: Double) -> Duration {
        min(policy.maxDelay, base * (1 + policy.jitter * (2 * random - 1)))
    }
}
