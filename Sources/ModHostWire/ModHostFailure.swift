/// mod-host's refusal of a command, with its code and name, as clients report it.
public struct ModHostFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The negative code; failures without one (parser errors, a client's own verdict) have 0.
    public var code: Int
    public var name: String

    /// A code from mod-host; one missing from the table (a newer mod-host) is `ERR_UNKNOWN`.
    public init(code: Int) {
        self.code = code
        name = ModHostErrorCode(rawValue: code)?.name ?? "ERR_UNKNOWN"
    }

    public init(code: Int, name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { code == 0 ? name : "\(name) (\(code))" }
}
