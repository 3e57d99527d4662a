import Synchronization

/// A queue that any thread or task posts to and one socket-owning thread drains.
///
/// Posting signals an eventfd that the owner's ``Poller`` watches beside its sockets, so the owner
/// sleeps in `zmq_poll` until there is work, with no polling interval.
final class Mailbox<Message: Sendable>: Sendable {
    private let queue = Mutex<[Message]>([])
    private let wakeup = Wakeup()

    var fileDescriptor: Int32 { wakeup.fileDescriptor }

    func post(_ message: Message) {
        queue.withLock { $0.append(message) }
        wakeup.signal()
    }

    /// Takes everything posted so far.
    func drain() -> [Message] {
        wakeup.clear()
        return queue.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}

/// A value delivered once, awaited by any number of tasks.
final class OneShot<Value: Sendable>: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Value, Never>])
        case done(Value)
    }

    private let state = Mutex<State>(.waiting([]))

    /// Delivers the value; later calls are ignored.
    func fulfil(_ value: Value) {
        let waiters: [CheckedContinuation<Value, Never>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .done(value)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    var value: Value {
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
    var current: Value? {
        state.withLock { if case .done(let value) = $0 { value } else { nil } }
    }
}
