/// The link's health as the C++ bridge words it: `starting` until the first attempt, then `healthy`
/// (both connections), `degraded` (feedback lost, commands still possible) or `unhealthy` (no
/// command connection).
///
/// Pure: the link feeds it what happened and reads the status, so the wording and the transitions
/// are tested without sockets.
public struct LinkHealth: Sendable, Equatable {
    public enum Status: String, Sendable {
        case starting, healthy, degraded, unhealthy
    }

    public private(set) var commandConnected = false
    public private(set) var feedbackConnected = false
    private var attempted = false
    private var everConnected = false
    /// How many times the link came back after losing mod-host.
    public private(set) var reconnects = 0
    /// Why the last attempt or connection failed.
    public private(set) var lastError: String?

    public init() {}

    public enum Event: Sendable, Equatable {
        case connected
        case connectFailed(String)
        case feedbackLost
        case disconnected(String)
    }

    /// Applies `event`; returns `true` when the link came back after a loss (the bridge then
    /// re-syncs and publishes `host_reconnected`).
    @discardableResult
    public mutating func apply(_ event: Event) -> Bool {
        switch event {
        case .connected:
            let cameBack = everConnected && !commandConnected
            attempted = true
            everConnected = true
            commandConnected = true
            feedbackConnected = true
            if cameBack { reconnects += 1 }
            lastError = nil
            return cameBack
        case .connectFailed(let reason):
            attempted = true
            commandConnected = false
            feedbackConnected = false
            lastError = reason
        case .feedbackLost:
            feedbackConnected = false
            lastError = "feedback connection lost"
        case .disconnected(let reason):
            commandConnected = false
            feedbackConnected = false
            lastError = reason
        }
        return false
    }

    public var status: Status {
        if !attempted { return .starting }
        if commandConnected && feedbackConnected { return .healthy }
        return commandConnected ? .degraded : .unhealthy
    }

    /// The C++ bridge's messages, so scripts matching them keep working.
    public var message: String {
        switch status {
        case .starting: "Service is starting"
        case .healthy: "Service is healthy, all connections established"
        case .degraded: "Service is degraded: command connection available but feedback connection lost"
        case .unhealthy: "Service is unhealthy: cannot connect to mod-host" + (lastError.map { " (\($0))" } ?? "")
        }
    }
}

/// Delays between reconnection attempts: the first at once, then every `first` for a `quickPhase`
/// (a host restarted by the supervisor is back within a few hundred milliseconds, and a refused
/// local connection costs microseconds), then doubling up to a cap, so a long-dead host costs one
/// attempt per cap.
public struct ReconnectBackoff: Sendable, Equatable {
    public let first: Duration
    public let cap: Duration
    public let quickPhase: Duration
    private var failures = 0

    public init(first: Duration = .milliseconds(10), cap: Duration = .seconds(1), quickPhase: Duration = .seconds(2)) {
        self.first = first
        self.cap = cap
        self.quickPhase = quickPhase
    }

    /// How long to wait before the next attempt, counting this failure.
    public mutating func failed() -> Duration {
        defer { failures += 1 }
        if failures == 0 { return .zero }
        let quickAttempts = Int(quickPhase / first)
        if failures <= quickAttempts { return min(first, cap) }
        var delay = first
        for _ in 0..<(failures - quickAttempts) {
            delay *= 2
            if delay >= cap { return cap }
        }
        return min(delay, cap)
    }

    /// After a success: the next failure is retried at once again.
    public mutating func succeeded() { failures = 0 }
}
