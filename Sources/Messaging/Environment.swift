import Foundation

/// A setting that could not be read: which one, what it held and what it should hold.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var key: String
    public var value: String
    public var expected: String

    public init(key: String, value: String, expected: String) {
        self.key = key
        self.value = value
        self.expected = expected
    }

    public var description: String { "\(key)=\(value) is not valid: expected \(expected)" }
}

/// Typed reads of environment variables: absent or empty means "use the default", anything
/// unreadable is a ``ConfigurationError`` naming the variable, never a silent fallback.
public struct Environment: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public func string(_ key: String) -> String? {
        guard let value = values[key], !value.isEmpty else { return nil }
        return value
    }

    public func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigurationError) -> Int? {
        guard let text = string(key) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(key: key, value: text, expected: "an integer in \(range)")
        }
        return value
    }

    /// Seconds, as a decimal number (`5.0`), to a `Duration`.
    public func seconds(_ key: String) throws(ConfigurationError) -> Duration? {
        guard let text = string(key) else { return nil }
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else {
            throw ConfigurationError(key: key, value: text, expected: "a number of seconds >= 0")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// `1/true/yes/on` and `0/false/no/off`, in any case.
    public func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let text = string(key) else { return nil }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(key: key, value: text, expected: "1/true/yes/on or 0/false/no/off")
        }
    }
}
