import Locking

/// An async FIFO gate with two ways in: operations that change the rig enter alone, in arrival
/// order, even though each awaits the bridge in between (an actor alone would interleave them at
/// every await); knob turns enter shared, many at once, since each keeps its own order per
/// parameter (``ParameterLanes``).
///
/// Arrival order holds across both: a knob turn that arrives while a rig change waits queues
/// behind it, so a turn sent after `remove_plugin` never reaches the bridge before it.
final class SerialGate: Sendable {
    private struct Waiter {
        let shared: Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var exclusive = false
        var shared = 0
        var waiters: [Waiter] = []

        mutating func admit(shared wantsShared: Bool) -> Bool {
            guard waiters.isEmpty, !exclusive else { return false }
            if wantsShared {
                shared += 1
                return true
            }
            guard shared == 0 else { return false }
            exclusive = true
            return true
        }

        /// The waiters that may enter now, in order, already counted in.
        mutating func admitWaiting() -> [CheckedContinuation<Void, Never>] {
            var admitted: [CheckedContinuation<Void, Never>] = []
            while let first = waiters.first, !exclusive {
                if first.shared {
                    shared += 1
                } else {
                    guard shared == 0 else { break }
                    exclusive = true
                }
                admitted.append(waiters.removeFirst().continuation)
            }
            return admitted
        }
    }

    private let state = Locked(State())

    /// How many wait to enter, for tests.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Enters alone at once if nobody is inside or waiting, without suspending; `false` when it must wait.
    func tryEnter() -> Bool { state.withLock { $0.admit(shared: false) } }

    /// Enters alone, after everyone who arrived before.
    func enter() async { await enter(shared: false) }

    func leave() {
        for next in state.withLock({ state in
            state.exclusive = false
            return state.admitWaiting()
        }) { next.resume() }
    }

    /// Enters beside other shared holders, unless a rig change is inside or waiting.
    func enterShared() async {
        if state.withLock({ $0.admit(shared: true) }) { return }
        await enter(shared: true)
    }

    func leaveShared() {
        for next in state.withLock({ state in
            state.shared -= 1
            return state.admitWaiting()
        }) { next.resume() }
    }

    private func enter(shared: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let enterNow = state.withLock { state in
                if state.admit(shared: shared) { return true }
                state.waiters.append(Waiter(shared: shared, continuation: continuation))
                return false
            }
            if enterNow { continuation.resume() }
        }
    }
}
