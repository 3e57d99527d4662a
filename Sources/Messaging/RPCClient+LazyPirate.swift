/// How often a request is tried before the caller is told it timed out.
public struct RetryPolicy: Sendable, Equatable {
    /// Tries in all, at least one.
    public var attempts: Int
    /// Pause between a timed-out try and the next.
    public var delay: Duration

    public init(attempts: Int = 1, delay: Duration = .zero) {
        self.attempts = max(1, attempts)
        self.delay = delay
    }
}

/// The zguide's Lazy Pirate, as a pure state machine: one request, tried until a reply arrives
/// or the retries run out.
///
/// Whoever runs it discards the REQ socket after every timeout (a REQ that sent and got no reply
/// can never send again) and opens a fresh one for the next try, so a lost reply never wedges
/// later calls.
struct LazyPirate {
    enum Action: Equatable {
        /// Send on a fresh socket and wait this long for the reply.
        case send(waitFor: Duration)
        /// Wait this long, then call ``retryDelayElapsed()``.
        case pause(Duration)
        /// Give up with this error.
        case fail(RPCError)
        /// The reply arrived: hand it to the caller.
        case deliver
    }

    let timeout: Duration
    let policy: RetryPolicy
    private(set) var attempt = 0
    private var finished = false

    init(timeout: Duration, policy: RetryPolicy) {
        self.timeout = timeout
        self.policy = policy
    }

    mutating func begin() -> Action {
        attempt = 1
        return .send(waitFor: timeout)
    }

    mutating func replyReceived() -> Action {
        finished = true
        return .deliver
    }

    mutating func timedOut() -> Action {
        guard attempt < policy.attempts else {
            finished = true
            return .fail(
                RPCError(
                    .timeout,
                    "No reply within \(timeout.readable) after \(attempt) attempt\(attempt == 1 ? "" : "s")"
                )
            )
        }
        return policy.delay > .zero ? .pause(policy.delay) : retryDelayElapsed()
    }

    mutating func retryDelayElapsed() -> Action {
        attempt += 1
        return .send(waitFor: timeout)
    }
}
