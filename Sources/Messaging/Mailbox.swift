import Locking

#if canImport(Glibc)
import Glibc
#endif

/// A queue that any thread or task posts to and one socket-owning thread drains.
///
/// Posting signals an eventfd that the owner's ``Poller`` watches beside its sockets, so the owner
/// sleeps in `zmq_poll` until there is work, with no polling interval. The owner's own posts (a
/// handler that finished on the socket's thread) skip the eventfd: the owner drains before it sleeps.
final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var messages: [Message] = []
        var owner: pthread_t?
        /// Set when the owner has stopped: nothing posted later would ever be read.
        var closed = false
    }

    private let state = Locked(State())
    private let wakeup = Wakeup()

    var fileDescriptor: Int32 { wakeup.fileDescriptor }

    /// Makes the calling thread the one that drains.
    func becomeOwner() {
        state.withLock { $0.owner = pthread_self() }
    }

    /// Queues `message`; `false` when the owner has stopped and it was not queued.
    @discardableResult
    func post(_ message: Message) -> Bool {
        let (accepted, fromOwner) = state.withLock { state in
            guard !state.closed else { return (false, false) }
            state.messages.append(message)
            return (true, state.owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false)
        }
        if accepted && !fromOwner { wakeup.signal() }
        return accepted
    }

    /// Refuses further posts, wakes the owner (which stops once it sees ``isClosed``) and returns
    /// what was posted but never drained.
    @discardableResult
    func close() -> [Message] {
        let left = state.withLock { state in
            state.closed = true
            defer { state.messages.removeAll() }
            return state.messages
        }
        wakeup.signal()
        return left
    }

    /// Whether ``close()`` was called: the owner should stop.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Takes everything posted so far. `clearing` resets the eventfd, after a poll reported it readable.
    func drain(clearing: Bool) -> [Message] {
        if clearing { wakeup.clear() }
        return state.withLock { state in
            defer { state.messages.removeAll(keepingCapacity: true) }
            return state.messages
        }
    }
}

/// A value delivered once (by a thread or a task), awaited by any number of tasks.
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
