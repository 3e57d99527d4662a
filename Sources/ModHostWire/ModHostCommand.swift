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
    public var wire: Data { Data(NULFramer.frame(text)) }

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

    /// `%.6f` with its trailing zeros dropped, as mod-host's own feedback writes numbers. Through C's
    /// `vsnprintf` (the C locale's "."): Foundation's `String(format:)` cost a knob turn about 5 µs.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        var text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 352) { buffer in
            // Up to 309 digits before the point, 6 after, a sign and the NUL: never truncated.
            _ = withVaList([value]) { vsnprintf(buffer.baseAddress, buffer.count, "%.6f", $0) }
            return String(cString: buffer.baseAddress!)
        }
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

/// A command refused before anything was sent.
public struct ModHostCommandError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
