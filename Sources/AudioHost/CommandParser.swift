import ModHostWire

/// A command line of mod-host's protocol, split and checked against the command table.
///
/// Tokens are split as mod-host splits them (``ModHostTokens``). Unlike mod-host, numbers are
/// checked: `param_set x gain 2` is an `invalid argument`, not an order for instance 0.
struct CommandLine: Equatable {
    var name: String
    var arguments: [String]
}

/// One command's format as mod-host declares it (`param_set %i %s %f`, `multi_remove %i ...`).
///
/// Arguments are counted the way mod-host's `protocol_parse` counts them, so `few arguments` and
/// `many arguments` fall where they fall there, `...` included.
struct CommandShape {
    /// The tokens after the name: `%i`, `%f`, `%s` or `...`.
    var pattern: [String]

    init(_ format: String) {
        pattern = format.split(separator: " ").dropFirst().map(String.init)
    }

    /// The parser error for `count` arguments, if any.
    func countError(_ count: Int) -> ModHostParserError? {
        let full = pattern.count + 1
        let tokens = count + 1
        let reached = min(tokens, full)
        // mod-host sees `...` among the tokens it compared, or at the first one it did not reach.
        var variadic = pattern.prefix(reached - 1).contains("...")
        if reached < full && pattern[reached - 1] == "..." { variadic = true }
        if tokens < full - (variadic ? 1 : 0) { return .fewArguments }
        if tokens > full && !variadic { return .manyArguments }
        return nil
    }
}

enum CommandTable {
    /// Every command we answer, in mod-host's own format strings (its `mod-host.h`).
    static let formats = [
        "add %s %i", "remove %i", "activate %i %i", "preload %s %i", "preset_load %i %s",
        "preset_save %i %s %s %s", "preset_show %s", "connect %s %s", "connect_matching %s %s",
        "connect_safe %s %s", "disconnect %s %s", "disconnect_all %s", "disconnect_safe %s %s", "bypass %i %i",
        "param_set %i %s %f", "param_get %i %s", "patch_get %i %s", "patch_set %i %s %s", "param_monitor %i %s %s %f",
        "params_flush %i %i %i ...",
        "pre_run %i %i %i ...", "licensee %i", "set_bpm %f", "set_bpb %f", "monitor %s %i %i",
        "monitor_output %i %s", "monitor_output_off %i %s", "monitor_audio_levels %s %i",
        "monitor_midi_control %i %i", "monitor_midi_program %i %i", "midi_learn %i %s %f %f",
        "midi_map %i %s %i %i %f %f", "midi_unmap %i %s", "cv_map %i %s %s %f %f %s", "cv_unmap %i %s",
        "cc_map %i %s %i %i %s %f %f %f %i %i %s %i ...", "cc_value_set %i %s %f", "cc_unmap %i %s",
        "hmi_map %i %s %i %i %i %i %i %s %f %f %i", "hmi_unmap %i %s", "cpu_load", "max_cpu_load", "load %s",
        "save %s", "bundle_add %s", "state_load %s", "state_save %s", "bundle_remove %s %s", "state_tmpdir %s",
        "feature_enable %s %i",
        "transport %i %f %f", "transport_sync %s", "show_external_ui %i", "output_data_ready", "multi_add %i ...",
        "multi_remove %i ...", "multi_activate %i %i ...", "multi_preload %i ...", "multi_bypass %i %i ...",
        "multi_param_set %s %f %i ...", "multi_params_flush %i %i ... %i ...", "multi_pre_run %i %i ... %i ...",
        "wait_audio_cycle", "help", "quit",
    ]

    static let shapes: [String: CommandShape] = Dictionary(
        uniqueKeysWithValues: formats.map { (String($0.prefix { $0 != " " }), CommandShape($0)) }
    )

    /// Splits and checks one command (its NUL already removed).
    static func parse(_ text: String) throws(ModHostParserError) -> CommandLine {
        let tokens = try ModHostTokens.split(text)
        guard let name = tokens.first, let shape = shapes[name] else { throw .notFound }
        let arguments = Array(tokens.dropFirst())
        if let error = shape.countError(arguments.count) { throw error }
        // Types are checked up to the first `...`; what follows is the command's own to check.
        for (argument, kind) in zip(arguments, shape.pattern.prefix { $0 != "..." }) {
            switch kind {
            case "%i": guard Int(argument) != nil else { throw .invalidArgument }
            case "%f": guard let value = Double(argument), value.isFinite else { throw .invalidArgument }
            default: break
            }
        }
        return CommandLine(name: name, arguments: arguments)
    }
}
