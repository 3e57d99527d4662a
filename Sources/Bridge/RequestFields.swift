public import Messaging

/// Typed reads of a request's top-level fields (the C++ bridge reads every field from the request
/// object itself): each throws `INVALID_PARAMETERS` naming the method and the field, so a missing
/// or mistyped field never turns into a default that reaches mod-host (C++ bug 7).
public struct RequestFields: Sendable {
    public let object: [String: JSONValue]
    public let method: String
    /// `Plugin command failed` or `Audio command failed`, the C++ bridge's prefix.
    public let context: String

    public init(_ object: [String: JSONValue], method: String, context: String) {
        self.object = object
        self.method = method
        self.context = context
    }

    func failure(_ message: String) -> BridgeError {
        BridgeError(.invalidParameters, "\(context): \(method) \(message)")
    }

    public func has(_ key: String) -> Bool { object[key].map { !$0.isNull } ?? false }

    public func value(_ key: String) throws(BridgeError) -> JSONValue {
        guard let value = object[key], !value.isNull else { throw failure("missing '\(key)' field") }
        return value
    }

    public func string(_ key: String) throws(BridgeError) -> String {
        guard let text = try value(key).stringValue else { throw failure("'\(key)' must be a string") }
        return text
    }

    public func optionalString(_ key: String) throws(BridgeError) -> String? {
        has(key) ? try string(key) : nil
    }

    public func number(_ key: String) throws(BridgeError) -> Double {
        guard let number = try value(key).doubleValue, number.isFinite else {
            throw failure("'\(key)': Value is not convertible to double.")
        }
        return number
    }

    public func optionalNumber(_ key: String) throws(BridgeError) -> Double? {
        has(key) ? try number(key) : nil
    }

    public func int(_ key: String) throws(BridgeError) -> Int {
        guard let number = try value(key).intValue else { throw failure("'\(key)' must be an integer") }
        return number
    }

    public func bool(_ key: String) throws(BridgeError) -> Bool {
        let value = try value(key)
        if let flag = value.boolValue { return flag }
        if let number = value.intValue, number == 0 || number == 1 { return number == 1 }
        throw failure("'\(key)' must be a boolean")
    }

    public func optionalBool(_ key: String) throws(BridgeError) -> Bool? {
        has(key) ? try bool(key) : nil
    }
}
