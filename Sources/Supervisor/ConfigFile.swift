import TOMLKit

/// A config file that cannot be used: where, which key, and why.
public struct ConfigFileError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// 1-based; 0 when the error is about the file as a whole or about a value (the TOML reader
    /// keeps positions only for syntax errors; the key then says where).
    public var line: Int
    /// 1-based; 0 when not known.
    public var column: Int = 0
    /// The key's full dotted path, `service.bridge.max_restarts`.
    public var key: String?
    public var message: String
    /// What the file's reader threw (a file error, TOMLKit's parse error), kept for the log; not
    /// compared.
    public var underlying: (any Error)?

    public init(
        file: String,
        line: Int,
        column: Int = 0,
        key: String?,
        message: String,
        underlying: (any Error)? = nil
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        self.underlying = underlying
    }

    /// Equal when they say the same: place, key and message.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        (lhs.file, lhs.line, lhs.column, lhs.key, lhs.message) == (rhs.file, rhs.line, rhs.column, rhs.key, rhs.message)
    }

    public var description: String {
        let place =
            line > 0 ? (column > 0 ? "\(file):\(line):\(column)" : "\(file):\(line)") : file
        return key.map { "\(place): key '\($0)': \(message)" } ?? "\(place): \(message)"
    }
}

/// The config file as sections of typed entries: `[jack]`, `[host]`, `[log]`, `[health]` and one
/// `service.<name>` section per service table.
///
/// Read with TOMLKit (toml++ underneath) because the file is TOML as users write it: inline tables,
/// multi-line arrays, dotted keys, literal and multi-line strings and comments anywhere, which the
/// line-by-line subset reader it replaces refused. toml++ implements all of TOML 1.0 and reports a
/// syntax error's line and column.
///
/// TOML tables are unordered: sections and entries come in key order, not file order.
struct ConfigFile {
    enum Value: Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case strings([String])
        /// A value no key takes (a table, a date, an array of numbers), kept to name its type.
        case other(typeName: String)

        var typeName: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .float: "a number"
            case .bool: "a boolean"
            case .strings: "an array of strings"
            case .other(let typeName): typeName
            }
        }
    }

    struct Entry {
        /// The key within its section.
        let key: String
        /// The full dotted path, for messages.
        let path: String
        let value: Value
    }

    struct Section {
        let name: String
        var entries: [Entry] = []
    }

    let name: String
    private(set) var sections: [Section] = []

    init(text: String, name: String) throws(ConfigFileError) {
        self.name = name
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigFileError(
                file: name,
                line: error.source.begin.line,
                column: error.source.begin.column,
                key: nil,
                message: error.description,
                underlying: error
            )
        } catch {
            throw ConfigFileError(file: name, line: 0, key: nil, message: "\(error)", underlying: error)
        }
        for key in root.keys {
            guard let table = root[key]?.table else {
                throw ConfigFileError(file: name, line: 0, key: key, message: "a setting outside any section")
            }
            guard key == "service" else {
                sections.append(Section(name: key, entries: Self.entries(of: table, path: key)))
                continue
            }
            for service in table.keys {
                let path = "service.\(service)"
                guard let serviceTable = table[service]?.table else {
                    throw ConfigFileError(
                        file: name,
                        line: 0,
                        key: path,
                        message: "a service is a table: [service.\(service)]"
                    )
                }
                sections.append(Section(name: path, entries: Self.entries(of: serviceTable, path: path)))
            }
        }
    }

    private static func entries(of table: TOMLTable, path: String) -> [Entry] {
        table.keys.map { key in
            Entry(key: key, path: "\(path).\(key)", value: table[key].map(value) ?? .other(typeName: "nothing"))
        }
    }

    private static func value(_ node: TOMLValueConvertible) -> Value {
        switch node.type {
        case .string: return .string(node.string ?? "")
        case .int: return .integer(node.int ?? 0)
        case .double: return .float(node.double ?? 0)
        case .bool: return .bool(node.bool ?? false)
        case .array:
            var strings: [String] = []
            for item in node.array ?? [] {
                guard let string = item.string else {
                    return .other(typeName: "an array holding \(value(item).typeName)")
                }
                strings.append(string)
            }
            return .strings(strings)
        case .table: return .other(typeName: "a table")
        case .date: return .other(typeName: "a date")
        case .time: return .other(typeName: "a time")
        case .dateTime: return .other(typeName: "a date and time")
        }
    }
}
