/// A libzmq call failed: the operation, its `errno` and libzmq's text for it.
public struct ZMQError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32
    public var message: String

    public var description: String { "\(operation): \(message) (errno \(errno))" }
}

/// The stable, machine-readable error codes of the wire, one table for every service.
///
/// Replies carry them in a `code` field beside the human-readable `error` text; old clients ignore it.
public struct ErrorCode: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The frame is not UTF-8 JSON.
    public static let parseError = ErrorCode(rawValue: "PARSE_ERROR")
    /// Valid JSON, but not a request: not an object, no string `method`, or several frames.
    public static let invalidRequest = ErrorCode(rawValue: "INVALID_REQUEST")
    public static let methodNotFound = ErrorCode(rawValue: "METHOD_NOT_FOUND")
    /// `params` is not an object, or a parameter is missing, of the wrong type or out of range.
    public static let invalidParameters = ErrorCode(rawValue: "INVALID_PARAMETERS")
    public static let messageTooLarge = ErrorCode(rawValue: "MESSAGE_TOO_LARGE")
    /// Too many requests in flight; try again.
    public static let busy = ErrorCode(rawValue: "BUSY")
    /// No reply within the deadline.
    public static let timeout = ErrorCode(rawValue: "TIMEOUT")
    public static let instanceNotFound = ErrorCode(rawValue: "INSTANCE_NOT_FOUND")
    public static let notFound = ErrorCode(rawValue: "NOT_FOUND")
    public static let bridgeError = ErrorCode(rawValue: "BRIDGE_ERROR")
    /// The LV2 host (mod-host) is not connected: it is down or restarting; retry later.
    public static let hostUnavailable = ErrorCode(rawValue: "HOST_UNAVAILABLE")
    /// The LV2 host answered with an error (its own code and name travel beside this one).
    public static let hostError = ErrorCode(rawValue: "HOST_ERROR")
    /// The JACK client is not open (before `init_jack`, after `close_jack`, or JACK is gone).
    public static let audioUnavailable = ErrorCode(rawValue: "AUDIO_UNAVAILABLE")
    /// JACK refused an operation (a connection, a buffer size).
    public static let audioError = ErrorCode(rawValue: "AUDIO_ERROR")
    /// The URI names no installed plugin.
    public static let pluginNotFound = ErrorCode(rawValue: "PLUGIN_NOT_FOUND")
    /// A method this service refuses on purpose (host administration, file access outside its data).
    public static let notSupported = ErrorCode(rawValue: "NOT_SUPPORTED")
    /// Stored state could not be written or read.
    public static let storageError = ErrorCode(rawValue: "STORAGE_ERROR")
    /// A transport failure: the socket could not be opened, bound or written.
    public static let transportError = ErrorCode(rawValue: "TRANSPORT_ERROR")
    /// A handler failed in a way it did not describe.
    public static let internalError = ErrorCode(rawValue: "INTERNAL_ERROR")
    /// The client or server was shut down while the call was pending.
    public static let shutdown = ErrorCode(rawValue: "SHUTDOWN")
}

/// An error a remote call reports or a handler throws: written on the wire as `error` + `code`.
public struct RPCError: Error, CustomStringConvertible, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    /// The error this one reports (a socket's, a parser's, a file's), kept for the log; it never
    /// goes on the wire and is not compared.
    public var underlying: (any Error)?

    public init(_ code: ErrorCode, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { "\(code): \(message)" }

    /// Equal when a client could not tell them apart: same code, same message.
    public static func == (lhs: RPCError, rhs: RPCError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}
