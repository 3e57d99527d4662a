import Foundation
import LV2
import Messaging
import ModHostWire

/// Plugin methods answered from the LV2 catalogue (lilv), plus presets and bundles, which also
/// involve mod-host (`preset_load`, `preset_save`, `bundle_add`, `bundle_remove`).
extension Bridge {
    func catalogueAction(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        switch fields.method {
        case "get_available_plugins":
            // The C++ bridge's full entries by default; `"shape": "list"` asks for list entries only
            // (what the session's `get_available_plugins` answers): 1/27 of the bytes with 580 plugins.
            // The list answer is kept with the catalogue it came from.
            func answer(_ entry: (PluginInfo) -> JSONValue, _ plugins: [PluginInfo]) -> JSONValue {
                [
                    "plugins": .object(
                        Dictionary(plugins.map { ($0.uri, entry($0)) }, uniquingKeysWith: { first, _ in first })
                    )
                ]
            }
            if try fields.optionalString("shape") == "list" {
                return await catalogue.listAnswer { answer(Self.listEntry, $0.plugins) }
            }
            return answer(Self.describe, await catalogue.catalogue().plugins)
        case "search_plugins": return try await searchPlugins(fields)
        case "get_plugin_essentials":
            let info = try await plugin(uri: fields.string("plugin_uri"))
            return ["plugin_uri": .string(info.uri), "essentials": Self.essentials(info)]
        case "get_plugin_gui", "get_plugin_gui_mini":
            // No MOD GUI data on this machine: the same all-empty fields the C++ bridge answers.
            let info = try await plugin(uri: fields.string("plugin_uri"))
            let empty: [String] = [
                "resources_directory", "icon_template", "settings_template", "javascript",
                "stylesheet", "screenshot", "thumbnail",
            ]
            return [
                "plugin_uri": .string(info.uri),
                "gui": .object(Dictionary(uniqueKeysWithValues: empty.map { ($0, JSONValue.string("")) })),
            ]
        case "get_plugin_presets":
            let info = try await plugin(uri: fields.string("plugin_uri"))
            return ["plugin_uri": .string(info.uri), "presets": Self.presets(info)]
        case "validate_preset":
            let info = try await plugin(uri: fields.string("plugin_uri"))
            let preset = try fields.string("preset_uri")
            return ["is_valid": .bool(info.presets.contains { $0.uri == preset })]
        case "load_preset": return try await loadPreset(fields)
        case "save_preset": return try await savePreset(fields)
        case "rescan_plugins":
            let count = await catalogue.rescan().value.plugins.count
            events.publish("plugins_rescanned", ["count": .int(count)])
            return ["status": "ok", "count": .int(count)]
        case "rescan_presets":
            let uri = try fields.string("plugin_uri")
            _ = await catalogue.rescan().value
            let info = try await plugin(uri: uri)
            return ["plugin_uri": .string(uri), "presets": Self.presets(info)]
        case "is_bundle_loaded":
            let bundle = Self.bundleURI(try fields.string("bundle_path"))
            return ["is_loaded": .bool(await catalogue.catalogue().plugins.contains { $0.bundleURI == bundle })]
        case "list_bundle_plugins":
            let bundle = Self.bundleURI(try fields.string("bundle_path"))
            let plugins = await catalogue.catalogue().plugins.filter { $0.bundleURI == bundle }
            return ["plugins": .array(plugins.map { .string($0.uri) })]
        case "add_bundle", "remove_bundle": return try await changeBundle(fields)
        default:
            throw BridgeError(.methodNotFound, "\(Self.pluginContext): Unknown command method: \(fields.method)")
        }
    }

    private func plugin(uri: String) async throws(BridgeError) -> PluginInfo {
        guard let info = await catalogue.catalogue().plugin(uri: uri) else {
            throw BridgeError(.notFound, "\(Self.pluginContext): Plugin not found: \(uri)")
        }
        return info
    }

    private func searchPlugins(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        let all = await catalogue.catalogue()
        var found = try all.search(fields.optionalString("query") ?? "")
        if fields.has("criteria") {
            guard let criteria = try fields.value("criteria").objectValue else {
                throw fields.failure("'criteria' must be an object")
            }
            let want = RequestFields(criteria, method: fields.method, context: fields.context)
            if let category = try want.optionalString("category")?.lowercased() {
                found = found.filter { $0.category.lowercased().contains(category) }
            }
            if let author = try want.optionalString("author")?.lowercased() {
                found = found.filter { ($0.author + " " + $0.brand).lowercased().contains(author) }
            }
            let counts: [(String, (PluginInfo) -> Int, Bool)] = [
                ("min_audio_inputs", { $0.audioInputs.count }, true),
                ("max_audio_inputs", { $0.audioInputs.count }, false),
                ("min_audio_outputs", { $0.audioOutputs.count }, true),
                ("max_audio_outputs", { $0.audioOutputs.count }, false),
            ]
            for (key, count, isMinimum) in counts where want.has(key) {
                let bound = try want.int(key)
                found = found.filter { isMinimum ? count($0) >= bound : count($0) <= bound }
            }
            if let symbol = try want.optionalString("has_parameter") {
                found = found.filter { $0.controlInputs.contains { $0.symbol == symbol } }
            }
            if want.has("required_features") {
                guard let features = try want.value("required_features").arrayValue?.compactMap(\.stringValue) else {
                    throw fields.failure("'required_features' must be an array of strings")
                }
                found = found.filter { plugin in features.allSatisfy { plugin.requiredFeatures.contains($0) } }
            }
            if let realtime = try want.optionalBool("requires_realtime") {
                let hardRT = "http://lv2plug.in/ns/lv2core#hardRTCapable"
                found = found.filter { ($0.requiredFeatures + $0.optionalFeatures).contains(hardRT) == realtime }
            }
        }
        return ["plugins": .array(found.map { Self.describe($0) })]
    }

    /// `preset_load` in mod-host, on the instance named by `instance_id` (or the only instance of
    /// `plugin_uri`); the instance's cached parameters are then read back from mod-host.
    private func loadPreset(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        let preset = try fields.string("preset_uri")
        let target = try presetTarget(fields)
        try await checked(Self.command("preset_load", [.int(target.number), .uri(preset)]))
        var parameters: [String: Double] = [:]
        for symbol in target.parameters.keys.sorted() {
            let command = try Self.command("param_get", [.int(target.number), .word(symbol)])
            if case .value(let value)? = try? await link.send(command) { parameters[symbol] = value }
        }
        registry.withLock { registry in
            registry[target.id]?.preset = preset
            registry[target.id]?.parameters.merge(parameters) { $1 }
        }
        events.publish("preset_loaded", ["instance_id": .string(target.id), "preset_uri": .string(preset)])
        return [
            "instance_id": .string(target.id), "preset_uri": .string(preset),
            "parameters": .object(parameters.mapValues { .double($0) }),
        ]
    }

    /// `preset_save` in mod-host: `preset{label, path}` (path: the folder the bundle goes in,
    /// `~/.lv2` by default); the catalogue is rescanned so the preset is listed.
    private func savePreset(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        let target = try presetTarget(fields)
        guard let preset = try fields.value("preset").objectValue else {
            throw fields.failure("'preset' must be an object")
        }
        let details = RequestFields(preset, method: fields.method, context: fields.context)
        let label = try details.string("label")
        let folder =
            try details.optionalString("path")
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".lv2").path
        let file = label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce("") { $0 + String($1) }
        let bundle = URL(fileURLWithPath: folder).appendingPathComponent("\(file).preset.lv2").path
        try await checked(
            Self.command("preset_save", [.int(target.number), .quoted(label), .uri(bundle), .word("\(file).ttl")])
        )
        let rescanned = await catalogue.rescan().value
        let presets = rescanned.plugin(uri: target.uri).map(Self.presets) ?? []
        return ["instance_id": .string(target.id), "bundle_path": .string(bundle), "presets": presets]
    }

    private func presetTarget(_ fields: RequestFields) throws(BridgeError) -> PluginInstance {
        if fields.has("instance_id") { return try instance(fields) }
        let uri = try fields.string("plugin_uri")
        let matches = registry.withLock { $0.all.filter { $0.uri == uri } }
        guard matches.count == 1, let only = matches.first else {
            throw fields.failure(
                matches.isEmpty
                    ? "no instance of \(uri) is loaded"
                    : "\(matches.count) instances of \(uri): name one by 'instance_id'"
            )
        }
        return only
    }

    /// `bundle_add`/`bundle_remove` in mod-host, then a rescan of the bridge's own catalogue.
    private func changeBundle(_ fields: RequestFields) async throws(BridgeError) -> JSONValue {
        let path = try fields.string("bundle_path")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw fields.failure("'\(path)' is not a bundle folder")
        }
        let adding = fields.method == "add_bundle"
        try await checked(Self.command(adding ? "bundle_add" : "bundle_remove", [.uri(path)]))
        let plugins = await catalogue.rescan().value.plugins.filter { $0.bundleURI == Self.bundleURI(path) }
        return ["bundle_path": .string(path), "plugins": .array(plugins.map { .string($0.uri) })]
    }

    /// lilv names bundles by `file://` URI ending in `/`.
    static func bundleURI(_ path: String) -> String {
        let uri = URL(fileURLWithPath: path, isDirectory: true).absoluteString
        return uri.hasSuffix("/") ? uri : uri + "/"
    }

    static func presets(_ info: PluginInfo) -> JSONValue {
        .array(info.presets.map { ["uri": .string($0.uri), "label": .string($0.label)] })
    }

    static func port(_ port: PortInfo) -> JSONValue {
        var members: [String: JSONValue] = [
            "index": .int(port.index), "symbol": .string(port.symbol), "name": .string(port.name),
        ]
        if port.kind == .control {
            members["default"] = port.defaultValue.map { .double($0) } ?? .null
            members["minimum"] = port.minimum.map { .double($0) } ?? .null
            members["maximum"] = port.maximum.map { .double($0) } ?? .null
            members["units"] = port.unit.map { .string($0) } ?? .null
            members["properties"] = .array(port.properties.map { .string($0) })
            members["scale_points"] = .array(
                port.scalePoints.map { ["label": .string($0.label), "value": .double($0.value)] }
            )
        }
        return .object(members)
    }

    /// A catalogue entry in the C++ bridge's shape.
    static func describe(_ info: PluginInfo) -> JSONValue {
        func ports(_ kind: PortInfo.Kind, _ direction: PortInfo.Direction, midi: Bool = false) -> JSONValue {
            .array(
                info.ports.filter { $0.kind == kind && $0.direction == direction && (!midi || $0.supportsMIDI) }
                    .map(port)
            )
        }
        return [
            "uri": .string(info.uri), "name": .string(info.name), "label": .string(info.name),
            "brand": .string(info.brand), "version": .string(info.version),
            "author": ["name": .string(info.author), "email": "", "homepage": ""],
            "category": info.category.isEmpty ? [] : [.string(info.category)],
            "bundle": .string(info.bundleURI), "comment": "", "license": "", "build_environment": "",
            "required_features": .array(info.requiredFeatures.map { .string($0) }),
            "ports": [
                "audio_inputs": ports(.audio, .input), "audio_outputs": ports(.audio, .output),
                "control_inputs": ports(.control, .input), "control_outputs": ports(.control, .output),
                "cv_inputs": ports(.cv, .input), "cv_outputs": ports(.cv, .output),
                "midi_inputs": ports(.atom, .input, midi: true), "midi_outputs": ports(.atom, .output, midi: true),
            ],
            "presets": presets(info),
        ]
    }

    /// A list entry: what a plugin list shows and filters on, ports counted rather than described;
    /// the fields of the session's list entries.
    static func listEntry(_ info: PluginInfo) -> JSONValue {
        func count(_ kind: PortInfo.Kind) -> JSONValue {
            [
                "input": .int(info.ports.count { $0.kind == kind && $0.direction == .input }),
                "output": .int(info.ports.count { $0.kind == kind && $0.direction == .output }),
            ]
        }
        return [
            "uri": .string(info.uri), "name": .string(info.name), "brand": .string(info.brand),
            "label": .string(info.name), "version": .string(info.version),
            "category": info.category.isEmpty ? [] : [.string(info.category)], "bundle": .string(info.bundleURI),
            "ports": ["audio": count(.audio), "control": count(.control), "cv": count(.cv), "midi": count(.atom)],
        ]
    }

    /// What a client needs to show a plugin's controls: control ports with ranges, units and labels.
    static func essentials(_ info: PluginInfo) -> JSONValue {
        [
            "uri": .string(info.uri), "name": .string(info.name), "brand": .string(info.brand),
            "version": .string(info.version), "category": .string(info.category),
            "control_inputs": .array(info.controlInputs.map(port)),
            "control_outputs": .array(info.controlOutputs.map(port)),
            "parameters": .array(info.controlInputs.map(port)),
            "audio_inputs": .array(info.audioInputs.map { .string($0.symbol) }),
            "audio_outputs": .array(info.audioOutputs.map { .string($0.symbol) }),
            "presets": presets(info),
        ]
    }
}
