import Dispatch
import Locking
import Messaging

/// The writer of `session/current.json` and its journal.
///
/// Every change is on disk before its reply goes out, so a session killed at any instant restarts
/// with everything it acknowledged: a structural change rewrites `current.json` (without fsync,
/// which would cost milliseconds), a knob turn is appended to the journal. Once changes pause for
/// `delay`, a dispatch queue of its own (off Swift's few cooperative threads) folds the journal
/// into a fresh `current.json` and fsyncs it, so a power cut loses at most that last moment.
final class SessionPersistence: Sendable {
    private let store: SessionStore
    private let delay: Duration
    private let queue = DispatchQueue(label: "marlise.session.persistence")
    /// Every file operation happens under this lock, so writes land in the order they were made.
    private let files: Locked<Files>

    struct Files: @unchecked Sendable {  // the journal is only touched under the lock
        /// The epoch of the `current.json` on disk; journal lines carry it.
        var epoch: UInt64
        let journal: SessionJournal
        /// The state to write in full at the next flush (journaled changes, or a failed write).
        var owed: SessionState?
        var scheduled = false
    }

    init(store: SessionStore, delay: Duration, epoch: UInt64) {
        self.store = store
        self.delay = delay
        files = Locked(Files(epoch: epoch, journal: SessionJournal(path: store.journalFile)))
    }

    /// Writes `state` in full and durably now (used where no reply is waiting).
    func write(_ state: SessionState) throws(RPCError) {
        try files.withLock { files throws(RPCError) in
            try rewrite(state, &files, synced: true)
        }
    }

    /// Rewrites `current.json` now (crash-safe) and schedules the sync that makes it power-cut-safe.
    func record(_ state: SessionState) {
        files.withLock { files in
            do {
                try rewrite(state, &files, synced: false)
            } catch {
                files.owed = state
            }
        }
        scheduleFlush()
    }

    /// Journals one knob turn now (crash-safe); `state` is the state with it, written in full later.
    func recordParameter(_ state: SessionState, instanceID: String, symbol: String, value: Double) {
        files.withLock { files in
            do {
                try files.journal.append(epoch: files.epoch, instanceID: instanceID, symbol: symbol, value: value)
                files.owed = state
            } catch {
                // The journal cannot take it: write everything in full.
                do { try rewrite(state, &files, synced: false) } catch { files.owed = state }
            }
        }
        scheduleFlush()
    }

    /// A new `current.json` under a new epoch, then an empty journal. Call with the lock held.
    private func rewrite(_ state: SessionState, _ files: inout Files, synced: Bool) throws(RPCError) {
        try store.saveSession(state, epoch: files.epoch &+ 1, synced: synced)
        files.epoch &+= 1
        files.journal.reset()
        files.owed = nil
    }

    private func scheduleFlush() {
        let first = files.withLock { files in
            defer { files.scheduled = true }
            return !files.scheduled
        }
        guard first else { return }
        let nanoseconds = Int(delay / .nanoseconds(1))
        queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in
            files.withLock { $0.scheduled = false }
            flush()
        }
    }

    /// Folds the journal into `current.json` and makes it durable; returns the error of a failure
    /// (what was owed stays owed).
    @discardableResult
    func flush() -> RPCError? {
        // The rewrite is under the lock, so it orders with replies' writes; the fsyncs are not, so
        // knob turns are not held up for milliseconds.
        let rewritten = files.withLock { files -> RPCError? in
            guard let owed = files.owed else { return nil }
            do throws(RPCError) {
                try rewrite(owed, &files, synced: false)
                return nil
            } catch {
                return error
            }
        }
        if let rewritten { return rewritten }
        do {
            try store.syncSession()
            return nil
        } catch {
            return error
        }
    }

    /// Flushes now, after any flush under way.
    func finish() {
        queue.sync { _ = flush() }
    }
}
