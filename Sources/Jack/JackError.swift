import CJack

/// A JACK operation failed: what was tried, libjack's code or status bits, and why in words.
public struct JackError: Error, CustomStringConvertible, Sendable, Equatable {
    public var operation: String
    /// libjack's return code (negative or an errno), or -1 where libjack gives none.
    public var code: Int32
    /// Why, in words, when known.
    public var reason: String

    public init(operation: String, code: Int32, reason: String = "") {
        self.operation = operation
        self.code = code
        self.reason = reason
    }

    /// From the `jack_status_t` bits of a failed `jack_client_open`.
    init(operation: String, status: UInt32) {
        var reasons: [String] = []
        if status & JackServerFailed.rawValue != 0 { reasons.append("cannot connect to the server") }
        if status & JackServerError.rawValue != 0 { reasons.append("communication error with the server") }
        if status & JackNameNotUnique.rawValue != 0 { reasons.append("the client name is taken") }
        if status & JackInitFailure.rawValue != 0 { reasons.append("cannot initialise the client") }
        if status & JackVersionError.rawValue != 0 { reasons.append("client protocol version mismatch") }
        if reasons.isEmpty { reasons.append("failed (status 0x\(String(status, radix: 16)))") }
        self.init(operation: operation, code: -1, reason: reasons.joined(separator: ", "))
    }

    public var description: String {
        "JACK: \(operation) failed" + (reason.isEmpty ? " (\(code))" : ": \(reason)")
    }
}
