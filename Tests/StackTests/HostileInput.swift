import Foundation
import Messaging

/// Generates hostile messages: garbage bytes, broken and deeply nested JSON, wrong types, huge
/// strings, NUL bytes and path tricks, from a seed so a failure can be replayed.
struct HostileInput {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64: small, fast, reproducible.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    static let names = [
        "../../etc/passwd", "/etc/passwd", "..", ".", "a/b", "a\u{0}b", "\u{0}", "", " ", "CON",
        String(repeating: "x", count: 10_000), "%2e%2e%2f", "..\\..\\windows", "~root", "\u{202E}evil",
        "name\nwith\nlines", "$(reboot)", "`id`", "'; DROP TABLE x; --",
    ]

    mutating func name() -> String { Self.names[below(Self.names.count)] }

    /// A JSON value of a random type, sometimes hostile.
    mutating func value(depth: Int = 0) -> JSONValue {
        switch below(depth > 2 ? 7 : 9) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .int(Int(bitPattern: UInt(next())))
        case 3: return .double(Double(bitPattern: next() & 0x7FEF_FFFF_FFFF_FFFF))
        case 4: return .string(name())
        case 5: return .string(String(repeating: "\u{0}", count: below(4)))
        case 6: return .int(below(3) - 1)
        case 7: return .array((0..<below(4)).map { _ in value(depth: depth + 1) })
        default:
            return .object(Dictionary(uniqueKeysWithValues: (0..<below(4)).map { ("k\($0)", value(depth: depth + 1)) }))
        }
    }

    /// Parameters for a method: the names it takes, each with a random (often wrong) value.
    mutating func parameters() -> [String: JSONValue] {
        let keys = [
            "id", "name", "new_name", "instance_id", "uri", "parameter", "port", "value", "filename", "title",
            "snapshot_id", "key", "service", "source", "target", "bank", "uris", "x", "y", "parameters",
            "port1", "port2", "size", "preset_uri", "plugin_uri", "query", "method", "action",
        ]
        var result: [String: JSONValue] = [:]
        for _ in 0..<below(5) { result[keys[below(keys.count)]] = value() }
        return result
    }

    /// Bytes that are not a well-formed request: random, truncated, deeply nested, huge, not UTF-8.
    mutating func garbage(truncating valid: Data) -> Data {
        switch below(8) {
        case 0: return Data((0..<below(512)).map { _ in UInt8(truncatingIfNeeded: next()) })
        case 1: return valid.prefix(below(max(valid.count, 1)))
        case 2: return Data(String(repeating: "[", count: 1000 + below(100_000)).utf8)
        case 3: return Data(String(repeating: "{\"a\":", count: 1000 + below(10_000)).utf8)
        case 4: return Data([0xFF, 0xFE, 0x7B, 0x22, 0x80, 0x22, 0x7D])
        case 5: return Data()
        case 6: return Data("{\"method\": \"echo\", \"params\": {\"x\": \"\u{0}\"}".utf8)
        default: return Data("\"just a string\"".utf8)
        }
    }
}
