/// Decides, for one service, what follows each failure: a restart after a backoff, or giving up.
///
/// Pure: time and randomness come in as arguments, so tests drive it without a clock.
struct RestartTracker: Sendable {
    enum Decision: Equatable {
        case restart(after: Duration)
        case giveUp(reason: String)
    }

    let policy: RestartPolicy
    /// Restarts decided within the window, oldest first.
    private(set) var recent: [ContinuousClock.Instant] = []
    /// Failures in a row without a stable run between them; sets the backoff.
    private(set) var consecutive = 0

    init(policy: RestartPolicy) { self.policy = policy }

    /// The service failed at `now`, having run since `runningSince` (nil if it never started).
    /// `random` is a value in `0..<1` for the jitter.
    mutating func failed(
        at now: ContinuousClock.Instant,
        runningSince: ContinuousClock.Instant?,
        random: Double
    ) -> Decision {
        if let runningSince, now - runningSince >= policy.resetAfter { consecutive = 0 }
        recent.removeAll { now - $0 > policy.window }
        guard recent.count < policy.maxRestarts else {
            return .giveUp(reason: "restarted \(recent.count) times within \(policy.window)")
        }
        recent.append(now)
        consecutive += 1
        return .restart(after: delay(forAttempt: consecutive, random: random))
    }

    /// The first restart is immediate; then `initialDelay`, doubling up to `maxDelay`, each spread
    /// by the jitter.
    func delay(forAttempt attempt: Int, random: Double) -> Duration {
        guard attempt > 1 else { return .zero }
        var base = policy.initialDelay
        for _ in 2..<attempt where base < policy.maxDelay { base *= 2 }
        base = min(base, policy.maxDelay)
        let spread = 1 + policy.jitter * (2 * random - 1)
        return min(policy.maxDelay, base * spread)
    }
}
