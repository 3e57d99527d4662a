import Foundation
import LV2
import Messaging
import ModHostWire

/// `{"action": "plugin", "method": …}`: plugin instances in mod-host, and the LV2 catalogue.
extension Bridge {
    static let pluginContext = "Plugin command failed"

    /// The methods answered without asking mod-host, on the request socket's thread; `nil` for the others.
    func pluginNow(_ object: [String: JSONValue]) throws(BridgeError) -> JSONValue? {
        guard let method = object["method"]?.stringValue else {
            throw BridgeError(.invalidRequest, "\(Self.pluginContext): missing 'method' field")
        }
        let fields = RequestFields(object, method: method, context: Self.pluginContext)
        switch method {
        case "get_plugin_info": return ["plugin": try instance(fields).json]
        case "list_instances":
            let all = registry.withLock { $0.all }
            return ["instances": .object(Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.json) }))]
        default: return nil
        }
    }

    /// The methods that wait: for mod-host's slower commands (`add` takes 15–20 ms) or for lilv.
    func plugin(_ object: [String: JSONValue]) async throws(BridgeError) -> JSONValue {
        if let exchange = try hostExchange(object) {
            let (answer, event) = try await perform(exchange)
            if let event { events.publish(event.type, event.data) }
            return answer
        }
        if let answer = try pluginNow(object) { return answer }
        let method = object["method"]?.stringValue ?? ""
        let fields = RequestFields(object, method: method, context: Self.pluginContext)
        switch method {
        case "load_plugin": return try await loadPlugin(fields)
        case "unload_plugin": return try await unloadPlugin(fields)
        case "clear_all": return try await clearAll()
        default: return try await catalogueAction(fields)
        }
    }

    func instance(_ fields: RequestFields) throws(BridgeError) -> PluginInstance {
        let reference = try fields.value("instance_id")
        guard let instance = registry.withLock({ $0.find(reference) }) else {
            let shown = reference.stringValue ?? reference.jsonText
            throw BridgeError(.instanceNotFound, "\(Self.pluginContext): Plugin instance not found: \(shown)")
        }
        return instance
    }

    /// Sends `command` and turns mod-host's negative status or parser error into an error reply.
    @discardableResult
    func checked(_ command: ModHostCommand) async throws(BridgeError) -> ModHostReply {
        let reply = try await link.send(command)
        if let failure = reply.failure { throw BridgeError(host: failure, command: command, raw: reply.text) }
        return reply
    }

    static func command(_ name: String, _ arguments: [ModHostCommand.Argument]) throws(BridgeError) -> ModHostCommand {
        do { return try ModHostCommand(name, arguments) } catch { throw BridgeError(error) }
    }

    private func loadPlugin(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        let uri = try fields.string("uri")
        // Checked before anything is reserved or sent: no URI with spaces, quotes or NUL reaches mod-host.
        _ = try Self.command("add", [.uri(uri), .int(0)])
        guard let info = await catalogue.catalogue().plugin(uri: uri) else {
            throw BridgeError(.notFound, "\(Self.pluginContext): Plugin not found: \(uri)")
        }
        let x = try fields.optionalNumber("x") ?? 0
        let y = try fields.optionalNumber("y") ?? 0
        var parameters: [String: Double] = [:]
        for port in info.controlInputs { parameters[port.symbol] = port.defaultValue ?? 0 }
        var requested: [(String, Double)] = []
        if fields.has("parameters") {
            guard let given = try fields.value("parameters").objectValue else {
                throw fields.failure("'parameters' must be an object of symbol: number")
            }
            for (symbol, value) in given.sorted(by: { $0.key < $1.key }) {
                guard parameters[symbol] != nil else {
                    throw fields.failure("'\(symbol)' is not a control input of \(uri)")
                }
                guard let number = value.doubleValue, number.isFinite else {
                    throw fields.failure("parameter '\(symbol)': Value is not convertible to double.")
                }
                requested.append((symbol, number))
                parameters[symbol] = number
            }
        }
        // The session asks for the number a plugin had before a crash, so JACK names stay the same.
        var preferred: Int?
        if fields.has("instance_number"), !(try fields.value("instance_number")).isNull {
            preferred = try fields.int("instance_number")
        }
        // A re-sync after a bridge crash: the host may still run the plugin under that number.
        let adopting = try fields.optionalBool("adopt") == true && preferred != nil ? info : nil
        let (number, adopted) = try await addInstance(uri: uri, preferring: preferred, adopting: adopting)
        for (symbol, value) in requested {
            do {
                try await checked(Self.command("param_set", [.int(number), .word(symbol), .number(value)]))
            } catch {
                _ = try? await link.send(Self.command("remove", [.int(number)]))
                registry.withLock { $0.release(number) }
                throw error
            }
        }
        let instance = PluginInstance(
            id: InstanceRegistry.makeID(number),
            number: number,
            uri: uri,
            name: info.name,
            brand: info.brand,
            version: info.version,
            x: x,
            y: y,
            parameters: parameters,
            ports: Self.ports(info),
            createdAt: Timestamp.now()
        )
        registry.withLock { $0.commit(instance) }
        events.publish(
            "plugin_loaded",
            ["instance_id": .string(instance.id), "name": .string(instance.name), "uri": .string(uri)]
        )
        return ["instance_id": .string(instance.id), "plugin": instance.json, "adopted": .bool(adopted)]
    }

    /// `add`s `uri` under the lowest free number; a number mod-host already uses (a plugin loaded
    /// before this bridge started) is skipped and kept reserved. With `adopting`, the preferred
    /// number, when mod-host already runs that plugin under it, is taken over as it is (no gap in
    /// the sound); when it runs something else there, that is removed first. Returns the number and
    /// whether it was adopted.
    private func addInstance(
        uri: String,
        preferring preferred: Int? = nil,
        adopting: PluginInfo? = nil
    ) async throws(BridgeError) -> (Int, Bool) {
        for attempt in 0..<64 {
            guard let number = registry.withLock({ $0.reserve(preferring: attempt == 0 ? preferred : nil) }) else {
                throw BridgeError(.invalidParameters, "\(Self.pluginContext): all 10,000 mod-host instances in use")
            }
            let command = try Self.command("add", [.uri(uri), .int(number)])
            var reply: ModHostReply
            do {
                reply = try await link.send(command)
                if reply == .error(.instanceAlreadyExists), attempt == 0, number == preferred, let adopting {
                    if await hostRuns(adopting, as: number) { return (number, true) }
                    _ = try await link.send(Self.command("remove", [.int(number)]))
                    reply = try await link.send(command)
                }
            } catch {
                registry.withLock { $0.release(number) }
                throw error
            }
            if reply == .status(number) { return (number, false) }
            if reply == .error(.instanceAlreadyExists) { continue }  // taken outside this bridge: stays reserved
            registry.withLock { $0.release(number) }
            let failure = reply.failure ?? ModHostFailure(code: 0, name: "UNEXPECTED_REPLY")
            throw BridgeError(host: failure, command: command, raw: reply.text)
        }
        throw BridgeError(.hostError, "\(Self.pluginContext): mod-host refused 64 instance numbers in a row")
    }

    /// Whether instance `number` answers `param_get` for every control input of `plugin`: mod-host
    /// cannot name the plugin an instance runs, but another plugin would lack some of these symbols.
    private func hostRuns(_ plugin: PluginInfo, as number: Int) async -> Bool {
        guard !plugin.controlInputs.isEmpty else { return false }  // nothing to tell it by
        for port in plugin.controlInputs {
            guard let command = try? Self.command("param_get", [.int(number), .word(port.symbol)]),
                case .value = try? await link.send(command)
            else { return false }
        }
        return true
    }

    private func unloadPlugin(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        let instance = try instance(fields)
        try await checked(Self.command("remove", [.int(instance.number)]))
        _ = registry.withLock { $0.remove(instance.id) }
        events.publish("plugin_unloaded", ["instance_id": .string(instance.id), "uri": .string(instance.uri)])
        return ["instance_id": .string(instance.id), "status": "ok"]
    }

    private func symbol(_ fields: RequestFields) throws(BridgeError) -> String {
        fields.has("parameter")
            ? try fields.string("parameter") : try fields.string(fields.has("port") ? "port" : "parameter")
    }

    func setParameter(_ fields: RequestFields) throws(BridgeError) -> HostExchange {
        let instance = try instance(fields)
        let symbol = try symbol(fields)
        let value = try fields.number("value")
        let command = try Self.command("param_set", [.int(instance.number), .word(symbol), .number(value)])
        return HostExchange(command: command) { [registry] reply throws(BridgeError) in
            if let failure = reply.failure { throw BridgeError(host: failure, command: command, raw: reply.text) }
            registry.withLock { $0[instance.id]?.parameters[symbol] = value }
            let event = PendingEvent(
                type: "parameter_changed",
                data: ["instance_id": .string(instance.id), "parameter": .string(symbol), "value": .double(value)]
            )
            return (["status": "ok", "value": .double(value)], event)
        }
    }

    /// mod-host's own value (`param_get`), never a cache (C++ bug 5).
    func getParameter(_ fields: RequestFields) throws(BridgeError) -> HostExchange {
        let instance = try instance(fields)
        let symbol = try symbol(fields)
        let command = try Self.command("param_get", [.int(instance.number), .word(symbol)])
        return HostExchange(command: command) { [registry] reply throws(BridgeError) in
            if let failure = reply.failure { throw BridgeError(host: failure, command: command, raw: reply.text) }
            guard case .value(let value) = reply else {
                throw BridgeError(
                    host: ModHostFailure(code: 0, name: "UNEXPECTED_REPLY"),
                    command: command,
                    raw: reply.text
                )
            }
            registry.withLock { $0[instance.id]?.parameters[symbol] = value }
            let answer: JSONValue = [
                "instance_id": .string(instance.id), "parameter": .string(symbol), "value": .double(value),
            ]
            return (answer, nil)
        }
    }

    private func clearAll() async throws(BridgeError) -> JSONValue {
        var removed: [JSONValue] = []
        for instance in registry.withLock({ $0.all }) {
            try await checked(Self.command("remove", [.int(instance.number)]))
            _ = registry.withLock { $0.remove(instance.id) }
            events.publish("plugin_unloaded", ["instance_id": .string(instance.id), "uri": .string(instance.uri)])
            removed.append(.string(instance.id))
        }
        return ["status": "ok", "removed": .array(removed)]
    }

    /// Port symbols by role, as the C++ bridge's `ports` object.
    static func ports(_ info: PluginInfo) -> JSONValue {
        func symbols(_ kind: PortInfo.Kind, _ direction: PortInfo.Direction) -> JSONValue {
            .array(info.ports.filter { $0.kind == kind && $0.direction == direction }.map { .string($0.symbol) })
        }
        return [
            "audio_inputs": symbols(.audio, .input), "audio_outputs": symbols(.audio, .output),
            "control_inputs": symbols(.control, .input), "control_outputs": symbols(.control, .output),
            "cv_inputs": symbols(.cv, .input), "cv_outputs": symbols(.cv, .output),
        ]
    }
}
