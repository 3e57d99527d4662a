import Foundation

/// One reply of mod-host's command port, read by clients and written by marlise-host.
public enum ModHostReply: Sendable, Equatable {
    /// `resp <n>`: a status (≥ 0 success, for `add` the instance) or a negative error code.
    case status(Int)
    /// `resp 0 <value>`: `param_get`, `cpu_load`, `max_cpu_load`.
    case value(Double)
    /// `not found`, `few arguments`…: the parser refused the command before running it.
    case parserError(ModHostParserError)
    /// Anything else (`preset_show`'s Turtle, an empty reply).
    case text(String)

    /// A failure reply with one of mod-host's codes.
    public static func error(_ code: ModHostErrorCode) -> ModHostReply { .status(code.rawValue) }

    /// Reads one reply, its NUL already removed.
    public init(_ message: some Collection<UInt8>) {
        self.init(text: String(decoding: message, as: UTF8.self))
    }

    public init(text: String) {
        if let parserError = ModHostParserError(rawValue: text) {
            self = .parserError(parserError)
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

    /// The reply as mod-host writes it (without its NUL); values with mod-host's `%.4f`.
    public var text: String {
        switch self {
        case .status(let code): "resp \(code)"
        case .value(let value): "resp 0 " + String(format: "%.4f", value)
        case .parserError(let error): error.rawValue
        case .text(let text): text
        }
    }

    /// The named code of a negative status; nil for success, other replies and codes not in the table.
    public var errorCode: ModHostErrorCode? {
        guard case .status(let code) = self, code < 0 else { return nil }
        return ModHostErrorCode(rawValue: code)
    }

    /// The failure this reply reports, if any: a negative status or a parser error.
    public var failure: ModHostFailure? {
        switch self {
        case .status(let code) where code < 0: ModHostFailure(code: code)
        case .parserError(let error): ModHostFailure(code: 0, name: error.name)
        default: nil
        }
    }
}
