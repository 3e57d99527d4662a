import Locking
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A queue that any thread or task posts to and one socket-owning thread drains.
///
/// Posting signals an eventfd that the owner's ``Poller`` watches beside its sockets, so the owner
/// sleeps in `zmq_poll` until there is work, with no polling interval. The owner's own posts (a
/// handler that finished on the socket's thread) skip the eventfd: the owner drains before it sleeps.
package final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var messages: [Message] = []
        var owner: pthread_t?
    }

    private let state = Locked(State())
    private let wakeup = Wakeup()
    /// Messages posted and not drained, readable without the lock: a thread hosting many mailboxes
    /// looks at every one after each piece of work, and most are empty.
    private let pending = Atomic<Int>(0)
    /// Set when the owner has stopped: nothing posted later would ever be read.
    private let closed = Atomic<Bool>(false)

    var fileDescriptor: Int32 { wakeup.fileDescriptor }

    /// Makes the calling thread the one that drains.
    func becomeOwner() {
        state.withLock { $0.owner = pthread_self() }
    }

    /// Whether the calling thread is the one that drains.
    var isOwnedByCurrentThread: Bool {
        state.withLock { state in state.owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Queues `message`; `false` when the owner has stopped and it was not queued.
    @discardableResult
    package func post(_ message: Message) -> Bool {
        let (accepted, fromOwner) = state.withLock { state in
            // Read under the lock: `close()` sets it under the lock too, so no message is queued
            // after the owner took what was left.
            guard !closed.load(ordering: .relaxed) else { return (false, false) }
            state.messages.append(message)
            pending.add(1, ordering: .releasing)
            return (true, state.owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false)
        }
        if accepted && !fromOwner { wakeup.signal() }
        return accepted
    }

    /// Refuses further posts, wakes the owner (which stops once it sees ``isClosed``) and returns
    /// what was posted but never drained.
    @discardableResult
    package func close() -> [Message] {
        let left = state.withLock { state in
            closed.store(true, ordering: .releasing)
            pending.store(0, ordering: .relaxed)
            defer { state.messages.removeAll() }
            return state.messages
        }
        wakeup.signal()
        return left
    }

    /// Whether ``close()`` was called: the owner should stop.
    package var isClosed: Bool { closed.load(ordering: .acquiring) }

    /// Takes everything posted so far. `clearing` resets the eventfd, after a poll reported it readable.
    ///
    /// A post from another thread that is not seen here has signalled the eventfd, so the owner's
    /// next poll returns at once; the owner's own posts are always seen.
    package func drain(clearing: Bool) -> [Message] {
        if clearing { wakeup.clear() }
        guard pending.load(ordering: .acquiring) > 0 else { return [] }
        return state.withLock { state in
            pending.store(0, ordering: .relaxed)
            defer { state.messages.removeAll(keepingCapacity: true) }
            return state.messages
        }
    }
}
