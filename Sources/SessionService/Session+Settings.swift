public import Messaging

/// Banks, favourites, configuration and user presets: kept by the session in `settings/` (the
/// reference forwarded them to a config service that was usually absent, or kept them nowhere).
extension Session {
    public func banks() -> JSONValue {
        ["banks": settings[.banks] ?? []]
    }

    /// Replaces the banks: a list of objects, each with a `title` (or `name`).
    public func saveBanks(_ banks: [JSONValue]) throws(RPCError) -> JSONValue {
        for bank in banks {
            guard case .object = bank else { throw RPCError(.invalidParameters, "Each bank is an object") }
        }
        try put(.banks, .array(banks))
        return ["banks": .array(banks)]
    }

    public func favorites() -> JSONValue {
        ["favorites": settings[.favorites] ?? []]
    }

    /// Adds an installed plugin to the favourites (once).
    public func addFavorite(_ uri: String) throws(RPCError) -> JSONValue {
        _ = try catalogue.require(uri: uri)
        var list = settings[.favorites]?.arrayValue ?? []
        if !list.contains(.string(uri)) { list.append(.string(uri)) }
        try put(.favorites, .array(list))
        return ["favorites": .array(list)]
    }

    public func removeFavorite(_ uri: String) throws(RPCError) -> JSONValue {
        var list = settings[.favorites]?.arrayValue ?? []
        guard list.contains(.string(uri)) else { throw RPCError(.notFound, "\(uri) is not a favorite") }
        list.removeAll { $0 == .string(uri) }
        try put(.favorites, .array(list))
        return ["favorites": .array(list)]
    }

    /// One key (or, without a key, all of them); an unset key reads as `null`, as in the reference.
    public func config(_ key: String?) throws(RPCError) -> JSONValue {
        let all = settings[.config]?.objectValue ?? [:]
        guard let key else { return ["config": .object(all)] }
        try Self.checkKey(key)
        return ["key": .string(key), "value": all[key] ?? .null]
    }

    public func setConfig(_ key: String, _ value: JSONValue) throws(RPCError) -> JSONValue {
        try Self.checkKey(key)
        guard value.serialized().count <= 65536 else {
            throw RPCError(.invalidParameters, "A configuration value is at most 64 KiB of JSON")
        }
        var all = settings[.config]?.objectValue ?? [:]
        all[key] = value
        try put(.config, .object(all))
        return ["key": .string(key), "value": value]
    }

    public func resetConfig() throws(RPCError) -> JSONValue {
        try put(.config, [:])
        return ["config": [:]]
    }

    func put(_ setting: SessionStore.Setting, _ value: JSONValue) throws(RPCError) {
        try store.save(setting, value)
        settings[setting] = value
    }

    static func checkKey(_ key: String) throws(RPCError) {
        guard (1...128).contains(key.utf8.count),
            !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw RPCError(.invalidParameters, "A configuration key is 1 to 128 bytes without control characters") }
    }

    // MARK: - Presets

    /// The user's presets of `uri`, kept in `settings/presets.json` as `{uri: [{uri, label, values}]}`.
    func userPresets(_ uri: String) -> [JSONValue] {
        settings[.presets]?[uri]?.arrayValue ?? []
    }

    /// The plugin's LV2 presets (from lilv) followed by the user's own.
    public func presets(uri: String) throws(RPCError) -> JSONValue {
        let info = try catalogue.require(uri: uri)
        let shipped = info.presets.map { preset -> JSONValue in
            ["uri": .string(preset.uri), "label": .string(preset.label), "user": false]
        }
        let user = userPresets(uri).map { preset -> JSONValue in
            ["uri": preset["uri"] ?? .null, "label": preset["label"] ?? .null, "user": true]
        }
        return ["plugin_uri": .string(uri), "presets": .array(shipped + user)]
    }

    /// Stores an instance's current values as a user preset of its plugin. With `uri` (the web
    /// client names its presets) a user preset of that URI is replaced, else one is made under it;
    /// without, a new URI is made. A plugin's own (LV2) preset is never overwritten.
    public func savePreset(_ instanceID: String, label: String, uri: String? = nil) throws(RPCError) -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        try Self.checkName(label)
        let plugin = try state.instance(instanceID)
        let info = try catalogue.require(uri: plugin.uri)
        if let uri {
            guard !uri.isEmpty, uri.utf8.count <= 512, !uri.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw RPCError(.invalidParameters, "A preset URI is 1 to 512 bytes of printable text")
            }
            guard !info.presets.contains(where: { $0.uri == uri }) else {
                throw RPCError(.invalidParameters, "'\(uri)' is one of the plugin's own presets, which stay as shipped")
            }
        }
        var values: [String: JSONValue] = [:]
        for port in info.controlInputs {
            if let value = plugin.parameters[port.symbol] ?? port.defaultValue { values[port.symbol] = .double(value) }
        }
        let preset: JSONValue = [
            "uri": .string(uri ?? "urn:marlise:preset:\(RequestID.make())"), "label": .string(label),
            "values": .object(values),
        ]
        var all = settings[.presets]?.objectValue ?? [:]
        let others = userPresets(plugin.uri).filter { uri == nil || $0["uri"]?.stringValue != uri }
        all[plugin.uri] = .array(others + [preset])
        try put(.presets, .object(all))
        return ["preset": preset]
    }

    /// Loads a preset into an instance: a user preset value by value through the bridge, an LV2
    /// preset by the host's `preset_load`, then its values read back from the host.
    public func loadPreset(_ instanceID: String, presetURI: String) async throws -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        guard (1...2048).contains(presetURI.utf8.count), !presetURI.unicodeScalars.contains(where: { $0.value <= 0x20 })
        else { throw RPCError(.invalidParameters, "Invalid preset URI") }
        return try await exclusive {
            let plugin = try state.instance(instanceID)
            let info = try catalogue.require(uri: plugin.uri)
            var values: [String: Double] = [:]
            // What the host took is recorded even if the bridge goes half-way through.
            defer {
                if !values.isEmpty {
                    state.setPreset(instanceID, presetURI, values: values)
                    changed()
                }
            }
            if let preset = userPresets(plugin.uri).first(where: { $0["uri"]?.stringValue == presetURI }) {
                for (symbol, value) in preset["values"]?.objectValue ?? [:] {
                    guard let number = value.doubleValue, (try? info.checkedControl(symbol, value: number)) != nil
                    else { continue }
                    try await bridge.plugin(
                        "set_parameter",
                        [
                            "instance_id": .string(bridgeID(instanceID)), "parameter": .string(symbol),
                            "value": .double(number),
                        ]
                    )
                    values[symbol] = number
                }
            } else {
                guard info.presets.contains(where: { $0.uri == presetURI }) else {
                    throw RPCError(.notFound, "\(plugin.uri) has no preset \(presetURI)")
                }
                guard let number = plugin.hostNumber else {
                    throw RPCError(.bridgeError, "Instance '\(instanceID)' has no host instance number")
                }
                try await bridge.command("preset_load", [.int(number), .string(presetURI)])
                for port in info.controlInputs {
                    let reply = try await bridge.plugin(
                        "get_parameter",
                        ["instance_id": .string(bridgeID(instanceID)), "parameter": .string(port.symbol)]
                    )
                    if let value = reply["value"]?.doubleValue { values[port.symbol] = value }
                }
            }
            for (symbol, value) in values.sorted(by: { $0.key < $1.key }) {
                publish(
                    "parameter_changed",
                    ["instance_id": .string(instanceID), "parameter": .string(symbol), "value": .double(value)]
                )
            }
            return [
                "instance_id": .string(instanceID), "preset": .string(presetURI),
                "parameters": .object(values.mapValues { .double($0) }),
            ]
        }
    }
}
