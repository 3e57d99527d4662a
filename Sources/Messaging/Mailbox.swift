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
