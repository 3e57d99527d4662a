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

    /// Refuses further posts and returns what was posted but never drained.
    func close() -> [Message] {
        state.withLock { state in
            state.closed = true
            defer { state.messages.removeAll() }
            return state.messages
        }
    }

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
public final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Value, Never>])
        case done(Value)
    }

    private let state = Locked<State>(.waiting([]))

    public init() {}

    /// Delivers the value; later calls are ignored.
    public func fulfil(_ value: Value) {
        let waiters: [CheckedContinuation<Value, Never>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(value)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    public var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    switch state {
                    case .done(let value): return value
                    case .waiting(var waiters):
                        waiters.append(continuation)
                        state = .waiting(waiters)
                        return nil
                    }
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    /// The value if already delivered.
    public var current: Value? {
        state.withLock { if case .done(let value) = $0 { value } else { nil } }
    }
}
