public import LV2
public import Messaging

/// Plugins: the catalogue, loading and unloading instances, their values and bypass.
extension Session {
    /// List entries by URI (``PluginInfo/listJSON``); details come from ``pluginInfo(uri:)``.
    public func availablePlugins() -> JSONValue { catalogue.available }

    /// The catalogue as a list, which is what the web router reads.
    public func pluginList() -> JSONValue { catalogue.list }

    /// The installed plugins among `uris`, by URI; the others are listed under `missing`, so every
    /// entry of `plugins` is a whole plugin description.
    public func pluginsBulk(_ uris: [String]) -> JSONValue {
        var plugins: [String: JSONValue] = [:]
        var missing: [JSONValue] = []
        for uri in uris {
            if let plugin = catalogue.plugin(uri: uri) {
                plugins[uri] = withUserPresets(plugin)
            } else {
                missing.append(.string(uri))
            }
        }
        return ["plugins": .object(plugins), "missing": .array(missing)]
    }

    public func pluginInfo(uri: String) throws(RPCError) -> JSONValue {
        ["plugin": withUserPresets(try catalogue.require(uri: uri))]
    }

    /// A plugin's description whose `presets` lists the user's presets after its own.
    func withUserPresets(_ plugin: PluginInfo) -> JSONValue {
        guard case .object(var members) = plugin.json else { return plugin.json }
        let user = userPresets(plugin.uri).map { preset -> JSONValue in
            ["uri": preset["uri"] ?? "", "label": preset["label"] ?? ""]
        }
        members["presets"] = .array((members["presets"]?.arrayValue ?? []) + user)
        return .object(members)
    }

    /// Reads the installed plugins again (after a package was installed).
    public func rescan(_ catalogue: StoredCatalogue) -> JSONValue {
        self.catalogue = IndexedCatalogue(catalogue)
        return ["count": .int(catalogue.catalogue.plugins.count)]
    }

    /// Loads `uri` into the host and onto the current pedalboard.
    ///
    /// Everything is checked before the bridge is called: the URI against the catalogue, every
    /// initial value against its port's range, the instance id for its form and uniqueness.
    public func loadPlugin(
        uri: String,
        instanceID requested: String?,
        x: Double,
        y: Double,
        parameters: [String: Double]
    ) async throws -> JSONValue {
        let info = try catalogue.require(uri: uri)
        for (symbol, value) in parameters { _ = try info.checkedControl(symbol, value: value) }
        if let requested { try PedalboardStore.validate(id: requested) }
        return try await exclusive {
            let instanceID = requested ?? state.freeInstanceID()
            guard state.pedalboard?.plugin(instanceID) == nil else {
                throw RPCError(.invalidParameters, "Instance id '\(instanceID)' is already in use")
            }
            guard let number = state.freeHostNumber() else {
                throw RPCError(.invalidParameters, "Every host instance number is in use")
            }
            var plugin = PluginInstance(
                instanceID: instanceID,
                uri: uri,
                name: info.name,
                brand: info.brand,
                version: info.version,
                x: x,
                y: y,
                parameters: parameters,
                hostNumber: number
            )
            try await load(&plugin)
            state.add(plugin)
            changed()
            publish(
                "plugin_loaded",
                ["instance_id": .string(instanceID), "uri": .string(uri), "name": .string(info.name)]
            )
            publishChange("plugin_loaded")
            return ["instance_id": .string(instanceID), "plugin": describe(plugin)]
        }
    }

    /// Asks the bridge to load `plugin` under its instance id and host number, with its values and
    /// bypass; adopts the id and number the bridge reports if it chose others.
    /// With `adopting`, what the host still runs under the plugin's number is taken over rather than
    /// replaced (a re-sync after the bridge restarted); returns whether it was.
    @discardableResult
    func load(_ plugin: inout PluginInstance, adopting: Bool = false) async throws(RPCError) -> Bool {
        var request: [String: JSONValue] = [
            "uri": .string(plugin.uri), "instance_id": .string(plugin.instanceID),
            "instance_number": plugin.hostNumber.map { .int($0) } ?? .null, "x": .double(plugin.x),
            "y": .double(plugin.y), "parameters": .object(plugin.parameters.mapValues { .double($0) }),
        ]
        if adopting { request["adopt"] = true }
        let reply = try await bridge.plugin("load_plugin", request, idempotent: false)
        if let answered = reply["instance_id"]?.stringValue, answered != plugin.instanceID {
            bridgeIDs[plugin.instanceID] = answered
        } else {
            bridgeIDs[plugin.instanceID] = nil
        }
        let described = reply["plugin"]
        if let number = described?["modhost_instance"]?.intValue ?? described?["instance_number"]?.intValue
            ?? reply["instance_number"]?.intValue
        {
            plugin.hostNumber = number
        }
        // A new instance starts enabled; an adopted one keeps whatever the host had.
        let adopted = reply["adopted"] == true
        if !plugin.enabled || adopted, let number = plugin.hostNumber {
            try await bridge.command("bypass", [.int(number), plugin.enabled ? 0 : 1])
        }
        return adopted
    }

    /// Removes an instance from the host and the pedalboard, with every wire to or from it.
    public func unloadPlugin(_ instanceID: String) async throws -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        return try await exclusive {
            let plugin = try state.instance(instanceID)
            var warning: JSONValue = .null
            do {
                try await bridge.plugin("unload_plugin", ["instance_id": .string(bridgeID(instanceID))])
            } catch {
                // A bridge that answered but no longer knows the instance (its host restarted) is no
                // reason to keep it here; a bridge that is gone is.
                guard bridgeAnswers else { throw error }
                warning = .string((error as? RPCError)?.message ?? "\(error)")
            }
            bridgeIDs[instanceID] = nil
            let dropped = state.remove(instanceID)
            changed()
            for connection in dropped {
                publish("connection_removed", ["connection_id": .string(connection.connectionID)])
            }
            publish("plugin_unloaded", ["instance_id": .string(instanceID), "uri": .string(plugin.uri)])
            publishChange("plugin_unloaded")
            return [
                "instance_id": .string(instanceID),
                "connections_removed": .array(dropped.map { .string($0.connectionID) }), "warning": warning,
            ]
        }
    }

    public func instanceInfo(_ instanceID: String) throws(RPCError) -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        return ["plugin": describe(try state.instance(instanceID))]
    }

    /// The reference double-nests (`instances.instances`); the flat list is added beside it.
    public func instances() -> JSONValue {
        let described = state.plugins.map { ($0.instanceID, describe($0)) }
        return [
            "instances": ["instances": .object(Dictionary(uniqueKeysWithValues: described))],
            "instance_list": .array(described.map(\.1)), "count": .int(described.count),
        ]
    }

    /// Sets a control input, range-checked against the plugin's port before the bridge is called.
    ///
    /// Knob turns do not queue behind each other: each parameter has its own lane (changes to it
    /// reach the host in order, and while one is in flight only the latest waiting one is sent next),
    /// and they wait only for rig changes that arrived before them. The reply comes once the host
    /// has the value: the caller's own, or the one that replaced it (its `value` says which).
    public func setParameter(_ instanceID: String, symbol: String, value: Double) async throws -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        let plugin = try state.instance(instanceID)
        _ = try catalogue.require(uri: plugin.uri).checkedControl(symbol, value: value)
        await gate.enterShared()
        defer { gate.leaveShared() }
        let key = ParameterLanes<LaneCaller>.Key(instanceID: instanceID, symbol: symbol)
        var superseded: [LaneCaller] = []
        if !lanes.claim(key) {
            let turn = await withCheckedContinuation { (caller: LaneCaller) in
                lanes.wait(key, value: value, caller: caller)
            }
            switch turn {
            case .answered(let outcome): return try outcome.get()
            case .drive(let replaced): superseded = replaced
            }
        }
        let outcome: Result<JSONValue, any Error>
        do {
            outcome = .success(try await applyParameter(key, value: value))
        } catch {
            outcome = .failure(error)
        }
        for caller in superseded { caller.resume(returning: .answered(outcome)) }
        if let next = lanes.release(key) { next.caller.resume(returning: .drive(superseded: next.superseded)) }
        return try outcome.get()
    }

    /// One change of a lane: to the host, then recorded and announced.
    private func applyParameter(_ key: ParameterLanes<LaneCaller>.Key, value: Double) async throws -> JSONValue {
        _ = try state.instance(key.instanceID)  // still there after waiting our turn
        try await bridge.plugin(
            "set_parameter",
            [
                "instance_id": .string(bridgeID(key.instanceID)), "parameter": .string(key.symbol),
                "value": .double(value),
            ]
        )
        state.setParameter(key.instanceID, key.symbol, value)
        changed(instanceID: key.instanceID, symbol: key.symbol, value: value)
        let data: JSONValue = [
            "instance_id": .string(key.instanceID), "parameter": .string(key.symbol), "value": .double(value),
        ]
        announceParameter(key, data)
        return data
    }

    /// A port's value: the host's, read through the bridge; the session's own record when the bridge
    /// is down (marked `source: "session"`). The reference nests `{parameter, value}` under `value`.
    public func parameter(_ instanceID: String, symbol: String) async throws -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        let plugin = try state.instance(instanceID)
        let info = try catalogue.require(uri: plugin.uri)
        guard let port = info.port(symbol: symbol), port.kind == .control else {
            throw RPCError(.invalidParameters, "'\(symbol)' is not a control port of \(plugin.uri)")
        }
        var value = plugin.parameters[symbol] ?? port.defaultValue ?? 0
        var source = "session"
        if bridge.status.bridgeConnected {
            let reply = try await bridge.plugin(
                "get_parameter",
                ["instance_id": .string(bridgeID(instanceID)), "parameter": .string(symbol)]
            )
            if let read = reply["value"]?.doubleValue {
                value = read
                source = "host"
            }
        }
        return [
            "value": ["parameter": .string(symbol), "value": .double(value)], "parameter": .string(symbol),
            "current_value": .double(value), "instance_id": .string(instanceID), "source": .string(source),
        ]
    }

    /// Bypasses (or re-enables) an instance in the host.
    public func setBypass(_ instanceID: String, bypassed: Bool) async throws -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        return try await exclusive {
            let plugin = try state.instance(instanceID)
            guard let number = plugin.hostNumber else {
                throw RPCError(.bridgeError, "Instance '\(instanceID)' has no host instance number")
            }
            try await bridge.command("bypass", [.int(number), bypassed ? 1 : 0])
            state.setEnabled(instanceID, !bypassed)
            changed()
            publish("plugin_bypassed", ["instance_id": .string(instanceID), "bypassed": .bool(bypassed)])
            publishChange("plugin_bypassed")
            return ["instance_id": .string(instanceID), "bypassed": .bool(bypassed)]
        }
    }

    /// Moves an instance on the canvas: stored state only, the host does not care.
    public func setPosition(_ instanceID: String, x: Double, y: Double) throws(RPCError) -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        _ = try state.instance(instanceID)
        state.setPosition(instanceID, x: x, y: y)
        changed()
        publishChange("plugin_moved")
        return ["instance_id": .string(instanceID), "x": .double(x), "y": .double(y)]
    }
}

extension Session {
    /// The plugin URI of an instance.
    public func instanceURI(_ instanceID: String) throws(RPCError) -> String {
        try PedalboardStore.validate(id: instanceID)
        return try state.instance(instanceID).uri
    }
}

/// What a knob turn waiting in its lane is resumed with: its turn to send (answering the callers
/// it replaced), or the outcome of the change that replaced it.
enum LaneTurn: Sendable {
    case drive(superseded: [LaneCaller])
    case answered(Result<JSONValue, any Error>)
}

typealias LaneCaller = CheckedContinuation<LaneTurn, Never>

extension Session {
    /// Publishes `parameter_changed` now, or holds it and publishes the latest when its interval ends.
    func announceParameter(_ key: ParameterLanes<LaneCaller>.Key, _ data: JSONValue) {
        switch parameterAnnouncements.offer(key, at: .now) {
        case .now:
            publish("parameter_changed", data)
        case .held:
            heldParameterEvents[key] = data
        case .holdUntil(let instant):
            heldParameterEvents[key] = data
            Task { [weak self] in
                try? await Task.sleep(until: instant)
                await self?.flushParameterEvent(key)
            }
        }
    }

    private func flushParameterEvent(_ key: ParameterLanes<LaneCaller>.Key) {
        parameterAnnouncements.flushed(key, at: .now)
        if let data = heldParameterEvents.removeValue(forKey: key) { publish("parameter_changed", data) }
    }
}
