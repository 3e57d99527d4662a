/// What the session knows about the bridge and the host behind it, and when the current pedalboard
/// must be put back into the host. Pure: the ``BridgeClient`` feeds it probe and call outcomes and
/// performs the actions it returns.
struct BridgeLink: Sendable, Equatable {
    enum State: Sendable, Equatable {
        /// No probe has answered or failed yet (start-up).
        case unknown
        case up
        case down
    }

    enum Action: Sendable, Equatable {
        case none
        /// The bridge or the host came (back) up: re-apply the current pedalboard.
        case resync(reason: String)
    }

    private(set) var state: State = .unknown
    /// The host's command connection as the bridge last reported it; `nil` when not reported.
    private(set) var hostConnected: Bool?
    /// JACK as the bridge last reported it; `nil` when not reported.
    private(set) var jackRunning: Bool?
    /// A re-sync is owed: the link came up while the host was not there yet.
    private var resyncOwed = true
    /// The bridge process and its host connection as last reported (`bridge_id` and reconnects).
    private var identity: String?

    /// The bridge's health endpoint answered. A changed `identity` means the bridge or its host was
    /// replaced since the last probe, even if both came back before any probe saw them gone.
    mutating func probeAnswered(hostConnected host: Bool?, jackRunning jack: Bool?, identity: String? = nil) -> Action {
        let wasUp = state == .up
        let hostWasConnected = hostConnected ?? false
        if let identity {
            if let previous = self.identity, previous != identity { resyncOwed = true }
            self.identity = identity
        }
        state = .up
        hostConnected = host
        jackRunning = jack
        if !wasUp { resyncOwed = true }
        if host == false { return .none }
        if resyncOwed {
            resyncOwed = false
            return .resync(reason: wasUp ? "host reconnected" : "bridge reachable")
        }
        if host == true && !hostWasConnected && wasUp {
            return .resync(reason: "host reconnected")
        }
        return .none
    }

    /// The probe got no reply in time: the bridge is gone (or wedged).
    mutating func probeFailed() {
        state = .down
        hostConnected = nil
        jackRunning = nil
    }

    /// A call got no reply, or could not be sent.
    mutating func callFailed() { probeFailed() }

    /// A call was answered: the bridge is there, whatever it said.
    mutating func callAnswered() -> Action {
        guard state != .up else { return .none }
        state = .up
        resyncOwed = false
        return .resync(reason: "bridge answered")
    }

    /// The bridge announced `host_reconnected`: the host lost every instance.
    mutating func hostReconnected() -> Action {
        hostConnected = true
        return .resync(reason: "host reconnected")
    }
}
