import Foundation

/// A config file that cannot be used: where, which key, and why.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// 1-based; 0 when the error is about the file as a whole.
    public var line: Int
    public var key: String?
    public var message: String

    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return key.map { "\(place): key '\($0)': \(message)" } ?? "\(place): \(message)"
    }
}

/// The TOML subset our config files use, with the line of every key kept for error messages:
/// `[section]` headers, `key = value` with strings, integers, floats, booleans and one-line arrays
/// of strings, `#` comments.
struct ConfigFile {
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case strings([String])

        var typeName: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .float: "a number"
            case .bool: "a boolean"
            case .strings: "an array of strings"
            }
        }
    }

    struct Entry {
        let key: String
        let value: Value
        let line: Int
    }

    struct Section {
        let name: String
        let line: Int
        var entries: [Entry] = []
    }

    let name: String
    private(set) var sections: [Section] = []

    init(text: String, name: String) throws(ConfigError) {
        self.name = name
        var current = Section(name: "", line: 0)
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = Self.strippingComment(raw).trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ConfigError(file: name, line: number, key: nil, message: "a section header is [name]")
                }
                if !current.name.isEmpty || !current.entries.isEmpty { sections.append(current) }
                let header = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if let earlier = sections.first(where: { $0.name == header }) {
                    throw ConfigError(
                        file: name,
                        line: number,
                        key: nil,
                        message: "section [\(header)] already began on line \(earlier.line)"
                    )
                }
                current = Section(name: header, line: number)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigError(file: name, line: number, key: nil, message: "expected key = value")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ConfigError(file: name, line: number, key: nil, message: "'\(key)' is not a key name")
            }
            if current.entries.contains(where: { $0.key == key }) {
                throw ConfigError(file: name, line: number, key: key, message: "given twice in [\(current.name)]")
            }
            let text = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            do {
                current.entries.append(Entry(key: key, value: try Self.value(text), line: number))
            } catch let message {
                throw ConfigError(file: name, line: number, key: key, message: message.text)
            }
        }
        if !current.name.isEmpty || !current.entries.isEmpty { sections.append(current) }
    }

    private struct Message: Error { let text: String }

    /// The line without a `#` comment (a `#` inside a string stays).
    private static func strippingComment(_ line: Substring) -> Substring {
        var quoted = false
        var escaped = false
        for index in line.indices {
            let character = line[index]
            if escaped {
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == "#" && !quoted {
                return line[..<index]
            }
        }
        return line
    }

    private static func value(_ text: String) throws(Message) -> Value {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if text.hasPrefix("\"") {
            var rest = text[...]
            let string = try quoted(&rest)
            guard rest.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Message(text: "unexpected text after the string")
            }
            return .string(string)
        }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]") else { throw Message(text: "an array ends with ] on the same line") }
            var rest = text.dropFirst().dropLast()[...]
            var strings: [String] = []
            while true {
                rest = rest.drop { $0 == " " || $0 == "\t" }
                if rest.isEmpty { break }
                guard rest.first == "\"" else { throw Message(text: "arrays hold strings in double quotes") }
                strings.append(try quoted(&rest))
                rest = rest.drop { $0 == " " || $0 == "\t" }
                if rest.first == "," {
                    rest = rest.dropFirst()
                } else if !rest.isEmpty {
                    throw Message(text: "expected , between array items")
                }
            }
            return .strings(strings)
        }
        let digits = text.replacingOccurrences(of: "_", with: "")
        if let integer = Int(digits) { return .integer(integer) }
        if let float = Double(digits), float.isFinite, !digits.lowercased().contains("n") { return .float(float) }
        throw Message(text: "'\(text)' is not a value (strings go in double quotes)")
    }

    /// Reads a double-quoted string with `\"`, `\\`, `\n`, `\t` escapes from the front of `text`.
    private static func quoted(_ text: inout Substring) throws(Message) -> String {
        text = text.dropFirst()
        var result = ""
        var escaped = false
        while let character = text.popFirst() {
            if escaped {
                switch character {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\"", "\\": result.append(character)
                default: throw Message(text: "unknown escape \\\(character)")
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                return result
            } else {
                result.append(character)
            }
        }
        throw Message(text: "unterminated string")
    }
}
