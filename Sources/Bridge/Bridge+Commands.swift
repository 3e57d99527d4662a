import Foundation
import Messaging
import ModHostWire

/// Passthrough to mod-host: `{"command": "…"}` and `{"name": …, "args": […]}`.
extension Bridge {
    /// mod-host commands that answer `resp 1` on success and `resp 0` on failure (docs/protocols/mod-host.md, item 6).
    static let invertedStatus: Set<String> = [
        "monitor_output", "monitor_output_off", "midi_learn", "midi_map", "midi_unmap",
    ]

    /// mod-host commands that answer `resp 0` on success and a positive number on failure (`monitor`
    /// when it cannot reach the address it was given).
    static let positiveFailure: Set<String> = ["monitor"]

    /// A raw command, sent as given once checked (one line, no NUL, not `help`/`quit`/empty), with
    /// the bridge's instance ids translated to mod-host's numbers (`plugin_3_…` → `3`,
    /// `plugin_3_…:out` → `effect_3:out`). Numbers are sent as text, as the C++ bridge did.
    func raw(_ value: JSONValue) throws(BridgeError) -> HostExchange {
        let text: String
        switch value {
        case .string(let string): text = string
        case .int(let number): text = String(number)
        case .double(let number): text = String(number)
        default: throw BridgeError(.invalidRequest, "Invalid request format: 'command' must be a string")
        }
        let translated = registry.withLock { registry in
            text.split(separator: " ", omittingEmptySubsequences: false)
                .map { Self.translate(String($0), registry) }
                .joined(separator: " ")
        }
        let command: ModHostCommand
        do { command = try ModHostCommand(raw: translated) } catch { throw BridgeError(error) }
        return Self.passthrough(command)
    }

    /// `name` and `args` joined by single spaces, each argument checked: strings must be single
    /// tokens (no whitespace, quotes or NUL), numbers and booleans are written as numbers.
    func structured(_ name: JSONValue, _ args: JSONValue?) throws(BridgeError) -> HostExchange {
        guard let name = name.stringValue else {
            throw BridgeError(.invalidRequest, "Invalid request format: 'name' must be a string")
        }
        let list: [JSONValue]
        switch args {
        case nil, .null?: list = []
        case .array(let values)?: list = values
        default: throw BridgeError(.invalidRequest, "Invalid request format: 'args' must be an array")
        }
        var arguments: [ModHostCommand.Argument] = []
        for (index, value) in list.enumerated() {
            switch value {
            case .string(let text): arguments.append(.word(registry.withLock { Self.translate(text, $0) }))
            case .int(let number): arguments.append(.int(number))
            case .double(let number): arguments.append(.number(number))
            case .bool(let flag): arguments.append(.int(flag ? 1 : 0))
            default:
                throw BridgeError(.invalidParameters, "args[\(index)] is \(value.typeName): only strings and numbers")
            }
        }
        let command: ModHostCommand
        do { command = try ModHostCommand(name, arguments) } catch { throw BridgeError(error) }
        return Self.passthrough(command)
    }

    /// `command` as given; mod-host's reply comes back as `raw`/`status`, its errors as error replies.
    private static func passthrough(_ command: ModHostCommand) -> HostExchange {
        HostExchange(command: command) { reply throws(BridgeError) in
            let text = reply.text
            let name = String(command.text.prefix { $0 != " " })
            var failure = reply.failure
            if invertedStatus.contains(name), case .status(0) = reply {
                failure = ModHostFailure(code: 0, name: "FAILED")
            }
            if positiveFailure.contains(name), case .status(let code) = reply, code > 0 {
                failure = ModHostFailure(code: code, name: "FAILED")
            }
            if let failure { throw BridgeError(host: failure, command: command, raw: text) }
            return (["raw": .string(text), "status": .string(text), "success": true], nil)
        }
    }

    /// An instance id as mod-host's number, `<id>:<port>` as `effect_<number>:<port>`; anything
    /// else unchanged.
    static func translate(_ token: String, _ registry: InstanceRegistry) -> String {
        if let instance = registry[token] { return String(instance.number) }
        if let colon = token.firstIndex(of: ":"), let instance = registry[String(token[..<colon])] {
            return "effect_\(instance.number)" + token[colon...]
        }
        return token
    }
}
