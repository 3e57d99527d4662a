public import Foundation

/// One command for mod-host's command port, validated so that nothing a client sends can smuggle a
/// second command in or break the protocol's space-separated parsing.
public struct ModHostCommand: Sendable, Equatable, CustomStringConvertible {
    /// The command as mod-host reads it, without its terminating NUL.
    public let text: String

    /// One argument: how it is checked and written.
    public enum Argument: Sendable, Equatable {
        /// A token mod-host splits on spaces: a symbol, a JACK port name.
        case word(String)
        /// An LV2 URI, written in double quotes as mod-host allows.
        case uri(String)
        /// Free text in double quotes (a preset's label): spaces allowed, quotes, NUL and line breaks not.
        case quoted(String)
        case int(Int)
        /// Written with up to six decimals, as mod-host's own `%f`.
        case number(Double)
    }

    /// Builds `name arguments…`; throws, sending nothing, when a value would not survive the trip.
    public init(_ name: String, _ arguments: [Argument]) throws(ModHostCommandError) {
        try Self.check(word: name, role: "command")
        guard !Self.refused.contains(name) else {
            throw ModHostCommandError("'\(name)' is not sent: \(Self.why(name))")
        }
        var tokens = [name]
        for argument in arguments {
            switch argument {
            case .word(let word):
                try Self.check(word: word, role: "argument")
                tokens.append(word)
            case .uri(let uri):
                guard !uri.isEmpty, !uri.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "\0" }) else {
                    throw ModHostCommandError("URI '\(uri)' is empty or holds spaces, quotes or NUL")
                }
                tokens.append("\"\(uri)\"")
            case .quoted(let text):
                guard !text.isEmpty, !text.contains(where: { $0 == "\"" || $0 == "\0" || $0.isNewline }) else {
                    throw ModHostCommandError("'\(text)' is empty or holds quotes, NUL or line breaks")
                }
                tokens.append("\"\(text)\"")
            case .int(let value):
                tokens.append(String(value))
            case .number(let value):
                guard value.isFinite else { throw ModHostCommandError("\(value) is not a finite number") }
                tokens.append(Self.format(value))
            }
        }
        text = tokens.joined(separator: " ")
    }

    /// A raw command from a client (`{"command": "…"}`), checked the same way: one command, no NUL,
    /// none of the commands mod-host never answers.
    public init(raw: String) throws(ModHostCommandError) {
        guard !raw.contains("\0") else { throw ModHostCommandError("a command cannot hold NUL") }
        guard !raw.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw ModHostCommandError("a command is one line")
        }
        let name = raw.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        guard !name.isEmpty else { throw ModHostCommandError("an empty command gets no reply from mod-host") }
        guard !Self.refused.contains(name) else {
            throw ModHostCommandError("'\(name)' is not sent: \(Self.why(name))")
        }
        text = raw
    }

    /// The bytes for one `write`: the command and its NUL.
    public var wire: Data { Data(text.utf8) + [0] }

    public var description: String { text }

    /// Commands mod-host never answers, or that end it.
    static let refused: Set<String> = ["help", "quit"]

    private static func why(_ name: String) -> String {
        name == "quit" ? "it ends mod-host" : "mod-host never answers it"
    }

    private static func check(word: String, role: String) throws(ModHostCommandError) {
        guard !word.isEmpty else { throw ModHostCommandError("empty \(role)") }
        guard !word.contains(where: { $0.isWhitespace || $0 == "\0" || $0 == "\"" }) else {
            throw ModHostCommandError("\(role) '\(word)' holds spaces, quotes or NUL")
        }
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

/// A command refused before anything was sent.
public struct ModHostCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// One reply from mod-host's command port.
public enum ModHostReply: Sendable, Equatable {
    /// `resp <n>`: a status (≥ 0 success, for `add` the instance) or a negative error code.
    case status(Int)
    /// `resp 0 <value>`: `param_get`, `cpu_load`, `max_cpu_load`.
    case value(Double)
    /// `not found`, `few arguments`, `many arguments`: mod-host's parser refused the command.
    case parserError(String)
    /// Anything else (`preset_show`'s Turtle, an empty reply).
    case text(String)

    public init(_ message: Data) {
        let text = String(decoding: message, as: UTF8.self)
        if ["not found", "few arguments", "many arguments", "invalid argument"].contains(text) {
            self = .parserError(text)
            return
        }
        let parts = text.split(separator: " ")
        if parts.first == "resp", parts.count == 2, let status = Int(parts[1]) {
            self = .status(status)
        } else if parts.first == "resp", parts.count == 3, parts[1] == "0", let value = Double(parts[2]) {
            self = .value(value)
        } else {
            self = .text(text)
        }
    }

    /// The failure this reply reports, if any: a negative status or a parser error.
    public var failure: ModHostFailure? {
        switch self {
        case .status(let code) where code < 0: ModHostFailure(code: code)
        case .parserError(let text): ModHostFailure(parserError: text)
        default: nil
        }
    }
}

/// mod-host's error, with the code and name of its `src/effects.h` table.
public struct ModHostFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The negative code; parser errors, which have none, get 0.
    public var code: Int
    public var name: String

    init(code: Int) {
        self.code = code
        name = Self.names[code] ?? "ERR_UNKNOWN"
    }

    init(code: Int, name: String) {
        self.code = code
        self.name = name
    }

    init(parserError: String) {
        code = 0
        name = parserError.uppercased().replacingOccurrences(of: " ", with: "_")
    }

    public var description: String { code == 0 ? name : "\(name) (\(code))" }

    static let names: [Int: String] = [
        -1: "ERR_INSTANCE_INVALID", -2: "ERR_INSTANCE_ALREADY_EXISTS", -3: "ERR_INSTANCE_NON_EXISTS",
        -4: "ERR_INSTANCE_UNLICENSED", -101: "ERR_LV2_INVALID_URI", -102: "ERR_LV2_INSTANTIATION",
        -103: "ERR_LV2_INVALID_PARAM_SYMBOL", -104: "ERR_LV2_INVALID_PRESET_URI", -105: "ERR_LV2_CANT_LOAD_STATE",
        -201: "ERR_JACK_CLIENT_CREATION", -202: "ERR_JACK_CLIENT_ACTIVATION", -203: "ERR_JACK_CLIENT_DEACTIVATION",
        -204: "ERR_JACK_PORT_REGISTER", -205: "ERR_JACK_PORT_CONNECTION", -206: "ERR_JACK_PORT_DISCONNECTION",
        -207: "ERR_JACK_VALUE_OUT_OF_RANGE", -301: "ERR_ASSIGNMENT_ALREADY_EXISTS", -302: "ERR_ASSIGNMENT_INVALID_OP",
        -303: "ERR_ASSIGNMENT_LIST_FULL", -304: "ERR_ASSIGNMENT_FAILED", -305: "ERR_ASSIGNMENT_UNUSED",
        -401: "ERR_CONTROL_CHAIN_UNAVAILABLE", -402: "ERR_ABLETON_LINK_UNAVAILABLE", -403: "ERR_HMI_UNAVAILABLE",
        -404: "ERR_EXTERNAL_UI_UNAVAILABLE", -901: "ERR_MEMORY_ALLOCATION", -902: "ERR_INVALID_OPERATION",
    ]
}

/// Cuts a byte stream into NUL-terminated messages, whatever the reads' boundaries: a message split
/// across reads is joined, several in one read come out one by one.
public struct NULFramer: Sendable {
    private var pending = Data()
    /// A message longer than this without its NUL is a broken peer: ``append(_:)`` throws.
    public let limit: Int

    public init(limit: Int = 1 << 20) { self.limit = limit }

    /// Adds what was read; returns the messages it completed, without their NULs.
    public mutating func append(_ bytes: Data) throws(ModHostCommandError) -> [Data] {
        pending.append(bytes)
        var messages: [Data] = []
        while let end = pending.firstIndex(of: 0) {
            messages.append(Data(pending[pending.startIndex..<end]))
            pending.removeSubrange(pending.startIndex...end)
        }
        guard pending.count <= limit else {
            pending.removeAll()
            throw ModHostCommandError("a message longer than \(limit) bytes without its NUL")
        }
        return messages
    }
}
