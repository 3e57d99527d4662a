public import Messaging
public import ModHostWire

/// A request the bridge could not carry out: written on the wire as the C++ bridge's
/// `{"error": "…"}`, with `"success": false` and a stable `code` beside it, and mod-host's own code
/// and name when mod-host refused.
public struct BridgeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// mod-host's error, when the failure is mod-host's answer.
    public var hostFailure: ModHostFailure?
    /// mod-host's reply as text, for raw commands.
    public var raw: String?
    /// The error this one reports (libjack's, the mod-host connection's), kept for the log; it never
    /// goes on the wire and is not compared.
    public var underlying: (any Error)?

    public init(
        _ code: ErrorCode,
        _ message: String,
        hostFailure: ModHostFailure? = nil,
        raw: String? = nil,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.hostFailure = hostFailure
        self.raw = raw
        self.underlying = underlying
    }

    /// Equal when a client could not tell them apart.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        (lhs.code, lhs.message, lhs.hostFailure, lhs.raw) == (rhs.code, rhs.message, rhs.hostFailure, rhs.raw)
    }

    /// mod-host answered with a negative status or a parser error.
    init(host failure: ModHostFailure, command: ModHostCommand, raw: String) {
        self.init(.hostError, "mod-host refused '\(command)': \(failure)", hostFailure: failure, raw: raw)
    }

    init(_ error: ModHostError) {
        self.init(
            error.kind == .timeout ? .timeout : .hostUnavailable,
            "mod-host unavailable: \(error.message)",
            underlying: error
        )
    }

    init(_ error: ModHostCommandError) {
        self.init(.invalidParameters, error.description, underlying: error)
    }

    public var description: String { "\(code): \(message)" }

    /// The reply object.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "success": false, "error": .string(message), "code": .string(code.rawValue),
        ]
        if let hostFailure {
            members["modhost_code"] = .int(hostFailure.code)
            members["modhost_error"] = .string(hostFailure.name)
        }
        if let raw {
            members["raw"] = .string(raw)
            members["status"] = .string(raw)
        }
        return .object(members)
    }
}
