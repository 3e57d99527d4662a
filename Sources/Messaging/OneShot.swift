import Locking

/// A value delivered once (by a thread or a task), awaited by any number of tasks: a
/// thread's result, a process's exit, a drained pipe.
///
/// A waiting task that is cancelled stops waiting at once (`CancellationError`): a time limit or a
/// cancelled task group always ends the wait, even when the value never comes.
public final class OneShot<Value: Sendable>: Sendable {
    private typealias Waiter = CheckedContinuation<Result<Value, CancellationError>, Never>

    private struct State {
        var value: Value?
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Locked(State())

    public init() {}

    /// Delivers the value; later calls are ignored.
    public func fulfil(_ value: Value) {
        let waiters: [Waiter] = state.withLock { state in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: .success(value)) }
    }

    /// The value, once delivered; throws if the waiting task is cancelled first.
    public var value: Value {
        get async throws(CancellationError) {
            let id = state.withLock { state in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            let result = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: Waiter) in
                    let now: Result<Value, CancellationError>? = state.withLock { state in
                        if let value = state.value { return .success(value) }
                        // Checked under the lock the cancellation handler takes too, so a
                        // cancellation is either seen here or finds the waiter registered.
                        if Task.isCancelled { return .failure(CancellationError()) }
                        state.waiters[id] = continuation
                        return nil
                    }
                    if let now { continuation.resume(returning: now) }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(returning: .failure(CancellationError()))
            }
            return try result.get()
        }
    }

    /// The value if already delivered.
    public var current: Value? {
        state.withLock { $0.value }
    }
}
