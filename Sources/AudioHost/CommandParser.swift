import ModHostWire

/// A command line of mod-host's protocol, split and checked against the command table.
///
/// Tokens are split as mod-host splits them (``ModHostTokens``). Unlike mod-host, numbers are
/// checked: `param_set x gain 2` is an `invalid argument`, not an order for instance 0.
struct CommandLine: Equatable {
    var name: String
    var arguments: [String]
}

/// The argument kinds of a command, as in mod-host's format strings (`param_set %i %s %f`).
enum ArgumentKind {
    case int, string, float
}

/// Each command we answer: its fixed arguments, and whether more may follow (mod-host's `...`).
struct CommandShape {
    var arguments: [ArgumentKind]
    var variadic = false
}

enum CommandTable {
    static let shapes: [String: CommandShape] = [
        "add": CommandShape(arguments: [.string, .int]),
        "remove": CommandShape(arguments: [.int]),
        "activate": CommandShape(arguments: [.int, .int]),
        "bypass": CommandShape(arguments: [.int, .int]),
        "param_set": CommandShape(arguments: [.int, .string, .float]),
        "param_get": CommandShape(arguments: [.int, .string]),
        "multi_param_set": CommandShape(arguments: [.string, .float, .int], variadic: true),
        "params_flush": CommandShape(arguments: [.int, .int, .int], variadic: true),
        "connect": CommandShape(arguments: [.string, .string]),
        "disconnect": CommandShape(arguments: [.string, .string]),
        "disconnect_all": CommandShape(arguments: [.string]),
        "preset_load": CommandShape(arguments: [.int, .string]),
        "preset_save": CommandShape(arguments: [.int, .string, .string, .string]),
        "preset_show": CommandShape(arguments: [.string]),
        "monitor_output": CommandShape(arguments: [.int, .string]),
        "monitor_output_off": CommandShape(arguments: [.int, .string]),
        "cpu_load": CommandShape(arguments: []),
        "max_cpu_load": CommandShape(arguments: []),
        "transport": CommandShape(arguments: [.int, .float, .float]),
        "set_bpm": CommandShape(arguments: [.float]),
        "set_bpb": CommandShape(arguments: [.float]),
        "output_data_ready": CommandShape(arguments: []),
        "feature_enable": CommandShape(arguments: [.string, .int]),
        "wait_audio_cycle": CommandShape(arguments: []),
        "help": CommandShape(arguments: []),
        "quit": CommandShape(arguments: []),
    ]

    /// Splits and checks one command (its NUL already removed).
    static func parse(_ text: String) throws(ModHostParserError) -> CommandLine {
        let tokens = try ModHostTokens.split(text)
        guard let name = tokens.first, let shape = shapes[name] else { throw .notFound }
        let arguments = Array(tokens.dropFirst())
        if arguments.count < shape.arguments.count { throw .fewArguments }
        if arguments.count > shape.arguments.count && !shape.variadic { throw .manyArguments }
        for (argument, kind) in zip(arguments, shape.arguments) {
            switch kind {
            case .int: guard Int(argument) != nil else { throw .invalidArgument }
            case .float: guard let value = Double(argument), value.isFinite else { throw .invalidArgument }
            case .string: break
            }
        }
        return CommandLine(name: name, arguments: arguments)
    }
}
