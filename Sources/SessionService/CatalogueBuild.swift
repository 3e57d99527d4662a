import Locking

/// The plugin catalogue's first build, which the session serves beside: calls that read the
/// catalogue wait here until it is in place, so none is answered from a half-read or empty one.
final class CatalogueBuild: Sendable {
    private struct State {
        var isDone = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Locked(State())

    /// A build already finished: for a session given its catalogue.
    static var finished: CatalogueBuild {
        let build = CatalogueBuild()
        build.finish()
        return build
    }

    var isDone: Bool { state.withLock { $0.isDone } }

    /// The catalogue is in place: every waiter goes on.
    func finish() {
        let waiters = state.withLock { state in
            state.isDone = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits for the build, at most `timeout`; false when it did not finish in time.
    func wait(upTo timeout: Duration) async -> Bool {
        if isDone { return true }
        return await withCheckedContinuation { continuation in
            let id: Int? = state.withLock { state in
                guard !state.isDone else { return nil }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let id else { return continuation.resume(returning: true) }
            Task { [state] in
                try? await Task.sleep(for: timeout)
                state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
            }
        }
    }
}
