import Foundation
import LV2

/// A `patch_set` value as an atom of its parameter's range, and a plugin's atom as mod-host's
/// feedback text: `b 1`, `i 3`, `l 3`, `f 0.500000`, `g 0.500000`, `s text`, `p /path`, `u uri`,
/// `v 3-f-1.000000:2.000000:3.000000`.
struct PatchValue {
    var type: UInt32
    var body: [UInt8]

    /// Vectors are written as mod-host reads them: `<count>-<b|i|l|f|g>-<value>:<value>…`.
    init?(range: String, text: String, features: HostFeatures) {
        type = features.urid(range)
        guard range.hasPrefix(atomNamespace) else { return nil }
        switch String(range.dropFirst(atomNamespace.count)) {
        case "String", "Path", "URI":
            body = Array(text.utf8) + [0]
        case "Vector":
            let parts = text.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[1].count == 1, let count = Int(parts[0]), count > 0,
                let child = PatchScalar(rawValue: String(parts[1]))
            else { return nil }
            let items = parts[2].split(separator: ":", omittingEmptySubsequences: false)
            guard items.count == count else { return nil }
            var elements: [UInt8] = []
            for item in items {
                guard let bytes = child.bytes(String(item)) else { return nil }
                elements += bytes
            }
            body =
                AtomWriter.bytes(of: UInt32(child.size))
                + AtomWriter.bytes(of: features.urid(atomNamespace + child.typeName))
                + elements
        default:
            guard let scalar = PatchScalar(typeName: String(range.dropFirst(atomNamespace.count))),
                let bytes = scalar.bytes(text)
            else { return nil }
            body = bytes
        }
    }

    /// mod-host's text for a value atom's type and body; nil for types it does not report.
    static func feedback(type: UInt32, body: [UInt8], features: HostFeatures) -> String? {
        guard let uri = features.uri(type), uri.hasPrefix(atomNamespace) else { return nil }
        let name = String(uri.dropFirst(atomNamespace.count))
        switch name {
        case "String": return "s " + cString(body)
        case "Path": return "p " + cString(body)
        case "URI": return "u " + cString(body)
        case "Vector":
            guard body.count >= 8 else { return nil }
            let childSize = Int(load(UInt32.self, body, 0))
            guard let childURI = features.uri(load(UInt32.self, body, 4)), childURI.hasPrefix(atomNamespace),
                let child = PatchScalar(typeName: String(childURI.dropFirst(atomNamespace.count))),
                childSize == child.size
            else { return nil }
            let count = (body.count - 8) / childSize
            let items = (0..<count).map { child.text(body, 8 + $0 * childSize) }
            return "v \(count)-\(child.rawValue)-" + items.joined(separator: ":")
        default:
            guard let scalar = PatchScalar(typeName: name), body.count >= scalar.size else { return nil }
            return "\(scalar.rawValue) " + scalar.text(body, 0)
        }
    }

    private static func cString(_ body: [UInt8]) -> String {
        String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// The number types patch values and vectors hold, by mod-host's letters.
enum PatchScalar: String {
    case bool = "b"
    case int = "i"
    case long = "l"
    case float = "f"
    case double = "g"

    init?(typeName: String) {
        switch typeName {
        case "Bool": self = .bool
        case "Int": self = .int
        case "Long": self = .long
        case "Float": self = .float
        case "Double": self = .double
        default: return nil
        }
    }

    var typeName: String {
        switch self {
        case .bool: "Bool"
        case .int: "Int"
        case .long: "Long"
        case .float: "Float"
        case .double: "Double"
        }
    }

    var size: Int { self == .long || self == .double ? 8 : 4 }

    /// The atom body of `text`; nil when it is not a number (mod-host would read zero).
    func bytes(_ text: String) -> [UInt8]? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch self {
        case .bool, .int, .long:
            let value: Int64
            if let whole = Int64(trimmed) {
                value = whole
            } else if let number = Double(trimmed), number.isFinite, abs(number) < 9e18 {
                value = Int64(number)  // truncated, as C's atoi reads "1.5"
            } else {
                return nil
            }
            if self == .long { return AtomWriter.bytes(of: value) }
            if self == .bool { return AtomWriter.bytes(of: Int32(value != 0 ? 1 : 0)) }
            guard let narrow = Int32(exactly: value) else { return nil }
            return AtomWriter.bytes(of: narrow)
        case .float, .double:
            guard let number = Double(trimmed), number.isFinite else { return nil }
            return self == .float ? AtomWriter.bytes(of: Float(number)) : AtomWriter.bytes(of: number)
        }
    }

    /// mod-host's `%i`, `%ld` or `%f` of the value at `offset`.
    func text(_ body: [UInt8], _ offset: Int) -> String {
        switch self {
        case .bool: "\(load(Int32.self, body, offset) != 0 ? 1 : 0)"
        case .int: "\(load(Int32.self, body, offset))"
        case .long: "\(load(Int64.self, body, offset))"
        case .float: format6(load(Float.self, body, offset))
        case .double: format6(load(Double.self, body, offset))
        }
    }
}

private func load<T>(_ type: T.Type, _ body: [UInt8], _ offset: Int) -> T {
    body.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
}

/// Builds LV2 atoms on the command thread, where allocating is fine.
enum AtomWriter {
    static func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// An object atom (id 0) of class `type`, with each (key, value type, value body) property.
    static func object(_ objectType: UInt32, type: UInt32, properties: [(UInt32, UInt32, [UInt8])]) -> [UInt8] {
        var body = bytes(of: UInt32(0)) + bytes(of: type)
        for (key, valueType, value) in properties {
            body += bytes(of: key) + bytes(of: UInt32(0))
            body += bytes(of: UInt32(value.count)) + bytes(of: valueType) + value
            body += [UInt8](repeating: 0, count: (8 - value.count % 8) % 8)
        }
        return bytes(of: UInt32(body.count)) + bytes(of: objectType) + body
    }
}
