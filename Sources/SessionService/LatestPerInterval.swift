/// At most one announcement per key per interval, and always the latest: the first change goes out
/// at once, those that follow within the interval are held, and the last of them goes out when the
/// interval ends. What keeps a knob sweep from flooding every client with `parameter_changed`.
///
/// Pure state: the caller keeps the held payloads and schedules the flushes it is told to.
struct LatestPerInterval<Key: Hashable> {
    enum Decision: Equatable {
        /// Announce now.
        case now
        /// Hold it and announce the latest held at this instant (schedule one flush).
        case holdUntil(ContinuousClock.Instant)
        /// A flush is already scheduled: replace the held payload.
        case held
    }

    let interval: Duration
    private var lastAnnounced: [Key: ContinuousClock.Instant] = [:]
    private var scheduled: Set<Key> = []

    init(interval: Duration) { self.interval = interval }

    mutating func offer(_ key: Key, at now: ContinuousClock.Instant) -> Decision {
        if scheduled.contains(key) { return .held }
        if let last = lastAnnounced[key], now - last < interval {
            scheduled.insert(key)
            return .holdUntil(last + interval)
        }
        announced(key, at: now)
        return .now
    }

    /// The scheduled flush of `key` went out.
    mutating func flushed(_ key: Key, at now: ContinuousClock.Instant) {
        scheduled.remove(key)
        announced(key, at: now)
    }

    private mutating func announced(_ key: Key, at now: ContinuousClock.Instant) {
        // Forget keys quiet for an interval once the table grows: it stays the size of a sweep.
        if lastAnnounced.count >= 256 {
            lastAnnounced = lastAnnounced.filter { now - $0.value < interval || scheduled.contains($0.key) }
        }
        lastAnnounced[key] = now
    }
}
