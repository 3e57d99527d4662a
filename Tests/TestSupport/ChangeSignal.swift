import Locking
public import Messaging

/// A change a test awaits instead of polling for: whoever makes it (a reading thread, a
/// subscriber task, a supervisor's change handler) calls ``announce()``, and a waiter looks again
/// only then.
public final class ChangeSignal: Sendable {
    /// Fulfilled at the next announcement, then replaced.
    private let next = Locked(OneShot<Void>())

    public init() {}

    /// Wakes every waiter, which then looks again.
    public func announce() {
        next.withLock { shot in
            defer { shot = OneShot() }
            return shot
        }.fulfil(())
    }

    /// What `look` finds once it finds something, looking again after every announcement; `nil`
    /// when nothing was found by `deadline`.
    public func first<T>(
        by deadline: ContinuousClock.Instant,
        _ look: () async throws -> T?
    ) async rethrows -> T? {
        while true {
            // Taken before looking, so an announcement made while looking is not missed.
            let change = next.withLock { $0 }
            if let found = try await look() { return found }
            let announced = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await change.value) != nil }
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            guard announced else { return try await look() }
        }
    }
}
