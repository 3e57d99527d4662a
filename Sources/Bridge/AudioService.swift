import Foundation
import Jack
import Locking
public import Messaging

/// The bridge's own JACK client (`JackNoStartServer`), independent of mod-host's, as the C++
/// bridge's "audio" API: opened by `init_jack`, closed by `close_jack`. When the server goes
/// away (`jack_on_shutdown`) the loss is reported and the client is reopened once JACK returns.
public final class AudioService: Sendable {
    /// What health and `jack_state` events report.
    public struct Snapshot: Sendable {
        public var open = false
        /// The server went away under an open client; reopening is under way.
        public var lost = false
        public var reason: String?
        public var server: String?
        public var reopens = 0

        public var json: JSONValue {
            [
                "open": .bool(open), "lost": .bool(lost), "server": server.map { .string($0) } ?? .null,
                "reason": reason.map { .string($0) } ?? .null, "reopens": .int(reopens),
            ]
        }
    }

    /// The JACK client name, fixed (`JackUseExactName`) so it is found in `jack_lsp`.
    public let clientName: String
    private let state: Locked<State>
    private let observer = Locked<(@Sendable (Snapshot) -> Void)?>(nil)
    private let retry: Duration

    private struct State {
        var client: JackClient?
        var snapshot: Snapshot
        /// Wanted open (after `init_jack`, until `close_jack`): a lost client is reopened.
        var wanted = false
        var reopening: Task<Void, Never>?
    }

    init(server: String?, clientName: String = "marlise-bridge", retry: Duration = .milliseconds(500)) {
        self.clientName = clientName
        self.retry = retry
        state = Locked(State(snapshot: Snapshot(server: server)))
    }

    /// Told of every open, loss and reopening.
    var onChange: (@Sendable (Snapshot) -> Void)? {
        get { observer.withLock { $0 } }
        set { observer.withLock { $0 = newValue } }
    }

    var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// The open client; `AUDIO_UNAVAILABLE` before `init_jack`, after `close_jack` or while JACK is gone.
    func client() throws(BridgeError) -> JackClient {
        let (client, snapshot) = state.withLock { ($0.client, $0.snapshot) }
        guard let client, !client.isShutDown else {
            let why = snapshot.lost ? "the JACK server went away" : "call init_jack first"
            throw BridgeError(.audioUnavailable, "Audio command failed: JACK client not open (\(why))")
        }
        return client
    }

    /// Opens the client unless open. libjack may block for its client timeout, so this runs on a
    /// thread of its own.
    func open() async throws(BridgeError) {
        if state.withLock({ $0.client.map { !$0.isShutDown } ?? false }) { return }
        state.withLock { $0.wanted = true }
        let outcome = await attempt()
        if case .failure(let error) = outcome {
            throw BridgeError(.audioUnavailable, "Audio command failed: \(error)", underlying: error)
        }
    }

    /// Closes the client and stops any reopening.
    func close() {
        let (client, reopening) = state.withLock { state in
            defer {
                state.client = nil
                state.wanted = false
                state.reopening = nil
                state.snapshot.open = false
                state.snapshot.lost = false
            }
            return (state.client, state.reopening)
        }
        reopening?.cancel()
        client?.close()
    }

    private func attempt() async -> Result<Void, JackError> {
        let name = clientName
        let server = state.withLock { $0.snapshot.server }
        let opened = await onThread(named: "jack open") {
            Result { () throws(JackError) in try JackClient(name: name, server: server) }
        }
        switch opened {
        case .failure(let error): return .failure(error)
        case .success(let client):
            do { try client.activate() } catch {
                client.close()
                return .failure(error)
            }
            client.onShutdown { [weak self] reason in self?.lost(reason) }
            let (snapshot, stale, replaced) = state.withLock { state -> (Snapshot?, Bool, JackClient?) in
                guard state.wanted else { return (nil, true, nil) }  // closed meanwhile
                let reopened = state.snapshot.lost
                let replaced = state.client
                state.client = client
                state.snapshot.open = true
                state.snapshot.lost = false
                state.snapshot.reason = nil
                if reopened { state.snapshot.reopens += 1 }
                return (state.snapshot, false, replaced)
            }
            replaced?.close()
            if stale { client.close() }
            if let snapshot { onChange?(snapshot) }
            return .success(())
        }
    }

    /// On a libjack thread: marks the client lost and starts reopening it.
    private func lost(_ reason: String) {
        let snapshot = state.withLock { state -> Snapshot? in
            guard state.wanted else { return nil }
            state.snapshot.open = false
            state.snapshot.lost = true
            state.snapshot.reason = reason.isEmpty ? "JACK server shut down" : reason
            state.reopening?.cancel()
            state.reopening = Task { [weak self] in await self?.reopen() }
            return state.snapshot
        }
        if let snapshot { onChange?(snapshot) }
    }

    private func reopen() async {
        while !Task.isCancelled, state.withLock({ $0.wanted && $0.snapshot.lost }) {
            if case .success = await attempt() { return }
            do { try await Task.sleep(for: retry) } catch { return }
        }
    }
}
