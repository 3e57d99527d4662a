/// What mod-host's command parser answers, bare (no `resp`), when it refuses a line.
public enum ModHostParserError: String, Error, Sendable, CaseIterable {
    case notFound = "not found"
    case fewArguments = "few arguments"
    case manyArguments = "many arguments"
    case invalidArgument = "invalid argument"

    /// `NOT_FOUND`, `FEW_ARGUMENTS`…: the form the bridge reports beside mod-host's `ERR_` names.
    public var name: String { String(rawValue.uppercased().map { $0 == " " ? "_" : $0 }) }
}
