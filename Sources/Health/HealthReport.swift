public import Foundation
public import Messaging

/// A service's state, as every health face reports it.
public enum ServiceState: String, Sendable, Equatable, CaseIterable {
    case starting, healthy, degraded, unhealthy, stopping, stopped, failed, absent
}

/// How a service last ended.
public struct LastExit: Sendable, Equatable {
    /// Exit code, or `nil` when killed by a signal.
    public var code: Int32?
    /// The signal's name (`SIGKILL`), or `nil` for a plain exit.
    public var signal: String?
    public var at: Date

    public init(code: Int32?, signal: String?, at: Date) {
        self.code = code
        self.signal = signal
        self.at = at
    }
}

/// The last probe of a service.
public struct ProbeReport: Sendable, Equatable {
    public var ok: Bool
    public var latency: Duration
    public var at: Date
    public var error: String?

    public init(ok: Bool, latency: Duration, at: Date, error: String?) {
        self.ok = ok
        self.latency = latency
        self.at = at
        self.error = error
    }
}

/// One service in the health report.
public struct ServiceHealth: Sendable, Equatable {
    public var name: String
    public var state: ServiceState
    public var required: Bool
    /// Whether sound flows through it (JACK, the host): while these are healthy the stack is at
    /// worst `degraded`.
    public var audioPath = false
    public var pid: Int32?
    /// Seconds since its current process started.
    public var uptime: Double?
    public var restarts: Int
    public var lastExit: LastExit?
    public var probe: ProbeReport?
    public var message: String?

    public init(name: String, state: ServiceState, required: Bool = true, audioPath: Bool = false) {
        self.name = name
        self.state = state
        self.required = required
        self.audioPath = audioPath
        restarts = 0
    }
}

/// The whole stack's health: the one object HTTP, ZeroMQ and marlisectl return.
public struct HealthReport: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case healthy, degraded, unhealthy, starting, stopping, failed
    }

    public var uptime: Double
    /// In start order.
    public var services: [ServiceHealth]
    /// Set while the supervisor starts or stops the stack, or after it gave up.
    public var phase: Status?

    public init(uptime: Double, services: [ServiceHealth], phase: Status? = nil) {
        self.uptime = uptime
        self.services = services
        self.phase = phase
    }

    /// `healthy` only when every required service is; `degraded` while sound can still flow (the
    /// audio-path services present, JACK and the host, are healthy); otherwise `unhealthy`, unless
    /// the supervisor is starting, stopping or has given up.
    public var status: Status {
        if let phase { return phase }
        if services.filter(\.required).allSatisfy({ $0.state == .healthy }) { return .healthy }
        let audio = services.filter { $0.audioPath && $0.state != .absent }
        if !audio.isEmpty && audio.allSatisfy({ $0.state == .healthy }) { return .degraded }
        return .unhealthy
    }

    public var json: JSONValue {
        [
            "status": .string(status.rawValue), "uptime_s": .double(rounded(uptime)),
            "services": .array(services.map(\.json)),
        ]
    }
}

extension ServiceHealth {
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "state": .string(state.rawValue), "required": .bool(required),
            "audio_path": .bool(audioPath),
            "restarts": .int(restarts), "pid": pid.map { .int(Int($0)) } ?? .null,
            "uptime_s": uptime.map { .double(rounded($0)) } ?? .null, "message": message.map(JSONValue.string) ?? .null,
        ]
        if let lastExit {
            members["last_exit"] = [
                "code": lastExit.code.map { .int(Int($0)) } ?? .null,
                "signal": lastExit.signal.map(JSONValue.string) ?? .null,
                "at": .string(isoTimestamp(lastExit.at)),
            ]
        } else {
            members["last_exit"] = .null
        }
        if let probe {
            members["probe"] = [
                "ok": .bool(probe.ok),
                "latency_ms": .double(rounded(probe.latency.inSeconds * 1000)),
                "at": .string(isoTimestamp(probe.at)), "error": probe.error.map(JSONValue.string) ?? .null,
            ]
        } else {
            members["probe"] = .null
        }
        return .object(members)
    }
}

private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

private func isoTimestamp(_ date: Date) -> String {
    date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true))
}
