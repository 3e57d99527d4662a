/// Answers one request: returns the `result`, or throws an ``RPCError`` written as the envelope error.
/// Any other error is reported as `INTERNAL_ERROR` with its description.
public typealias RPCHandler = @Sendable (RequestEnvelope) async throws -> JSONValue

/// The methods a server answers, fixed before it starts: no request can arrive in a window where
/// the socket is bound but the handlers are not yet registered.
public struct RPCRouter: Sendable {
    private var handlers: [String: RPCHandler] = [:]

    public init() {}

    /// Registers `handler` for `method`, replacing any earlier one.
    public mutating func register(_ method: String, _ handler: @escaping RPCHandler) {
        handlers[method] = handler
    }

    public func handler(for method: String) -> RPCHandler? { handlers[method] }

    public var methods: [String] { handlers.keys.sorted() }
}

/// Typed access to `params`: each accessor throws `INVALID_PARAMETERS` naming the parameter.
extension RequestEnvelope {
    public func string(_ name: String) throws(RPCError) -> String {
        try required(name, optionalString(name))
    }

    public func optionalString(_ name: String) throws(RPCError) -> String? {
        try optional(name, "a string") { $0.stringValue }
    }

    public func int(_ name: String) throws(RPCError) -> Int {
        try required(name, optionalInt(name))
    }

    public func optionalInt(_ name: String) throws(RPCError) -> Int? {
        try optional(name, "an integer") { $0.intValue }
    }

    public func double(_ name: String) throws(RPCError) -> Double {
        try required(name, optionalDouble(name))
    }

    public func optionalDouble(_ name: String) throws(RPCError) -> Double? {
        try optional(name, "a number") { $0.doubleValue }
    }

    public func bool(_ name: String) throws(RPCError) -> Bool {
        try required(name, optionalBool(name))
    }

    public func optionalBool(_ name: String) throws(RPCError) -> Bool? {
        try optional(name, "a boolean") { $0.boolValue }
    }

    private func required<T>(_ name: String, _ value: T?) throws(RPCError) -> T {
        guard let value else { throw RPCError(.invalidParameters, "Missing required parameter '\(name)'") }
        return value
    }

    /// `nil` when the parameter is absent or null; an error when present with the wrong type.
    private func optional<T>(_ name: String, _ expected: String, _ read: (JSONValue) -> T?) throws(RPCError) -> T? {
        guard let value = params[name], !value.isNull else { return nil }
        guard let typed = read(value) else {
            throw RPCError(.invalidParameters, "Parameter '\(name)' must be \(expected), not \(value.typeName)")
        }
        return typed
    }
}
