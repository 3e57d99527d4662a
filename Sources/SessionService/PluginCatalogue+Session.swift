public import LV2
import Locking
public import Messaging

/// What the session needs of the catalogue: plugin descriptions on the wire, and refusals of
/// unknown URIs and out-of-range values before the bridge is called.
extension PluginCatalogue {
    /// The plugin, or `PLUGIN_NOT_FOUND`.
    public func require(uri: String) throws(RPCError) -> PluginInfo {
        guard let plugin = plugin(uri: uri) else {
            throw RPCError(.pluginNotFound, "Plugin not found: \(uri)")
        }
        return plugin
    }
}

/// The catalogue as the session keeps it: the list answers, built once per scan, and each plugin's
/// description by URI (`set_parameter` looks its plugin up on every call).
///
/// With the scan's cache file (``CatalogueRecords``) the descriptions stay on disk and are read
/// back when asked, the ``recentCapacity`` most recently used kept: with 580 plugins they were
/// most of the session's memory, and what is asked often is the few plugins on the pedalboard.
/// The file is the one this scan wrote or read, held open, so a description is never another
/// scan's. Without a cache file the descriptions are kept, as before.
final class IndexedCatalogue: Sendable {
    private enum Details: Sendable {
        case held([String: PluginInfo])
        case stored(CatalogueRecords)
    }

    /// Descriptions read back from the file, by URI, with when each was last asked for.
    private struct Recent: Sendable {
        var plugins: [String: (info: PluginInfo, used: Int)] = [:]
        var clock = 0
    }

    /// More than a pedalboard's distinct plugins, usually. A miss reads and decodes one record: with
    /// the stock plugins, not measurable beside the 1.3 ms of a `get_plugin_info_by_uri` call.
    static let recentCapacity = 32

    private let details: Details
    private let recent = Locked(Recent())
    /// `get_available_plugins`: list entries by URI.
    let available: JSONValue
    /// `list_plugins`: the same entries as a list, with their count.
    let list: JSONValue

    convenience init(_ catalogue: PluginCatalogue) { self.init(StoredCatalogue(catalogue: catalogue)) }

    /// The list answers of `stored`; its descriptions from its records when it has them.
    init(_ stored: StoredCatalogue) {
        let plugins = stored.catalogue.plugins
        if let records = stored.records {
            details = .stored(records)
        } else {
            details = .held(Dictionary(plugins.map { ($0.uri, $0) }, uniquingKeysWith: { first, _ in first }))
        }
        let entries = plugins.map(\.listJSON)
        available = [
            "plugins": .object(Dictionary(zip(plugins.map(\.uri), entries), uniquingKeysWith: { first, _ in first }))
        ]
        list = ["plugins": .array(entries), "count": .int(entries.count)]
    }

    /// Whether `uri` is installed, without reading its description.
    func contains(uri: String) -> Bool {
        switch details {
        case .held(let plugins): plugins[uri] != nil
        case .stored(let records): records.contains(uri)
        }
    }

    /// The plugin, or nil when it is not installed (or its record can no longer be read).
    func plugin(uri: String) -> PluginInfo? { try? require(uri: uri) }

    /// The plugin, or `PLUGIN_NOT_FOUND`; `INTERNAL_ERROR` when its record in the cache file can no
    /// longer be read as written (changed in place): never another description in its stead.
    func require(uri: String) throws(RPCError) -> PluginInfo {
        let records: CatalogueRecords
        switch details {
        case .held(let plugins):
            guard let plugin = plugins[uri] else { throw RPCError(.pluginNotFound, "Plugin not found: \(uri)") }
            return plugin
        case .stored(let stored): records = stored
        }
        let kept = recent.withLock { recent -> PluginInfo? in
            guard let info = recent.plugins[uri]?.info else { return nil }
            recent.clock += 1
            recent.plugins[uri]?.used = recent.clock
            return info
        }
        if let kept { return kept }
        let read: PluginInfo?
        do {
            read = try records.plugin(uri: uri)
        } catch {
            throw RPCError(.internalError, "\(error); rescan the plugins")
        }
        guard let plugin = read else { throw RPCError(.pluginNotFound, "Plugin not found: \(uri)") }
        recent.withLock { recent in
            recent.clock += 1
            recent.plugins[uri] = (plugin, recent.clock)
            if recent.plugins.count > Self.recentCapacity,
                let oldest = recent.plugins.min(by: { $0.value.used < $1.value.used })?.key
            {
                recent.plugins[oldest] = nil
            }
        }
        return plugin
    }

    /// The installed plugins among `uris`, described: what a pedalboard's bundle and its system
    /// wiring need, rather than the whole catalogue.
    func catalogue(uris: some Sequence<String>) -> PluginCatalogue {
        var seen = Set<String>()
        return PluginCatalogue(plugins: uris.filter { seen.insert($0).inserted }.compactMap(plugin(uri:)))
    }

    /// How many descriptions are kept from the file (tests: the read-back path is the one taken).
    var recentCount: Int { recent.withLock { $0.plugins.count } }
}

extension PluginInfo {
    /// The control input `symbol`, with `value` checked against its declared range.
    public func checkedControl(_ symbol: String, value: Double) throws(RPCError) -> PortInfo {
        guard let port = port(symbol: symbol), port.kind == .control, port.direction == .input else {
            throw RPCError(.invalidParameters, "'\(symbol)' is not a control input of \(uri)")
        }
        guard value.isFinite else { throw RPCError(.invalidParameters, "Value for '\(symbol)' is not finite") }
        if let minimum = port.minimum, value < minimum {
            throw RPCError(.invalidParameters, "Value \(value) for '\(symbol)' is below its minimum \(minimum)")
        }
        if let maximum = port.maximum, value > maximum {
            throw RPCError(.invalidParameters, "Value \(value) for '\(symbol)' is above its maximum \(maximum)")
        }
        return port
    }

    /// A port that can start a wire (an output), or `INVALID_PARAMETERS`.
    public func checkedPort(_ symbol: String, direction: PortInfo.Direction) throws(RPCError) -> PortInfo {
        guard let port = port(symbol: symbol), port.direction == direction, port.kind != .control else {
            throw RPCError(.invalidParameters, "'\(symbol)' is not an \(direction) signal port of \(uri)")
        }
        return port
    }

    /// The reference's `ports` shape: symbols grouped by kind and direction.
    public var portGroups: JSONValue {
        func symbols(_ kind: PortInfo.Kind, _ direction: PortInfo.Direction) -> JSONValue {
            .array(ports.filter { $0.kind == kind && $0.direction == direction }.map { .string($0.symbol) })
        }
        return [
            "audio_inputs": symbols(.audio, .input), "audio_outputs": symbols(.audio, .output),
            "control_inputs": symbols(.control, .input), "control_outputs": symbols(.control, .output),
            "cv_inputs": symbols(.cv, .input), "cv_outputs": symbols(.cv, .output),
            "midi_inputs": symbols(.atom, .input), "midi_outputs": symbols(.atom, .output),
        ]
    }

    /// Every port in full: symbol, name, type, direction and, for controls, min/max/default.
    public var portList: JSONValue {
        .array(ports.map(\.json))
    }

    /// The control inputs by symbol, as the reference's `available_parameters`.
    public var availableParameters: JSONValue {
        .object(Dictionary(uniqueKeysWithValues: controlInputs.map { ($0.symbol, $0.json) }))
    }

    /// `lv2:minorVersion` and `lv2:microVersion`, from ``version``.
    var versionNumbers: (minor: Int, micro: Int) {
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }

    /// MOD's rule: 0.0 is experimental, an odd minor or micro version is testing, the rest stable.
    var stability: String {
        let (minor, micro) = versionNumbers
        if minor == 0 && micro == 0 { return "experimental" }
        return minor % 2 == 1 || micro % 2 == 1 ? "testing" : "stable"
    }

    /// A list entry, as mod-ui's `get_all_plugins` answers: what a plugin list shows and filters
    /// on, with ports counted rather than described. Ports, parameters, presets and the modgui's
    /// texts come from `get_plugin_info_by_uri` (``json``) when a plugin is opened.
    public var listJSON: JSONValue {
        let (minor, micro) = versionNumbers
        func count(_ kind: PortInfo.Kind) -> JSONValue {
            [
                "input": .int(ports.count { $0.kind == kind && $0.direction == .input }),
                "output": .int(ports.count { $0.kind == kind && $0.direction == .output }),
            ]
        }
        var members: [String: JSONValue] = [
            "uri": .string(uri), "name": .string(name), "brand": .string(brand), "label": .string(name),
            "version": .string(version), "minorVersion": .int(minor), "microVersion": .int(micro), "release": 0,
            "builder": "", "stability": .string(stability),
            "category": category.isEmpty ? [] : [.string(category)],
            "ports": ["audio": count(.audio), "control": count(.control), "cv": count(.cv), "midi": count(.atom)],
        ]
        if let modgui {
            var gui: [String: JSONValue] = ["resourcesDirectory": .string(modgui.resourcesDirectory)]
            for file in [ModGUI.File.screenshot, .thumbnail] {
                gui[file.rawValue] = modgui.files[file].map { .string($0) }
            }
            members["gui"] = .object(gui)
        }
        return .object(members)
    }

    /// The catalogue entry on the wire: Marlise's fields and, beside them, the ones mod-ui's web
    /// client reads (`microVersion`, `minorVersion`, `release`, `stability`, `label`, `license`,
    /// `comment`, `bundles`, `gui`; `gui` is empty for plugins without a modgui).
    public var json: JSONValue {
        let (minor, micro) = versionNumbers
        return [
            "uri": .string(uri), "name": .string(name), "brand": .string(brand), "author": ["name": .string(author)],
            "version": .string(version), "minorVersion": .int(minor), "microVersion": .int(micro), "release": 0,
            "builder": "", "stability": .string(stability), "label": .string(name), "license": "", "comment": "",
            "category": category.isEmpty ? [] : [.string(category)], "bundle": .string(bundleURI),
            "bundles": [.string(bundleURI)], "gui": modgui?.json ?? [:],
            "ports": portGroups, "port_list": portList, "parameters": .array(controlInputs.map(\.json)),
            "control_outputs": .array(controlOutputs.map(\.json)),
            "presets": .array(presets.map { ["uri": .string($0.uri), "label": .string($0.label)] }),
            "required_features": .array(requiredFeatures.map { .string($0) }),
        ]
    }
}

extension ModGUI {
    /// mod-ui's `gui` object: the resources directory and each file as absolute paths, the texts
    /// its templates render, and `ports` when the modgui lays controls out; absent keys are
    /// absent, which is what its web client tests for.
    public var json: JSONValue {
        var members: [String: JSONValue] = ["resourcesDirectory": .string(resourcesDirectory)]
        for (file, path) in files { members[file.rawValue] = .string(path) }
        for (text, value) in texts { members[text.rawValue] = .string(value) }
        if !ports.isEmpty {
            members["ports"] = .array(
                ports.map { ["index": .int($0.index), "symbol": .string($0.symbol), "name": .string($0.name)] }
            )
        }
        return .object(members)
    }
}

extension PortInfo {
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "index": .int(index), "symbol": .string(symbol), "name": .string(name), "type": .string(kind.rawValue),
            "direction": .string(direction.rawValue),
        ]
        if let minimum { members["min"] = .double(minimum) }
        if let maximum { members["max"] = .double(maximum) }
        if let defaultValue { members["default"] = .double(defaultValue) }
        if let unit { members["units"] = .string(unit) }
        if !properties.isEmpty { members["properties"] = .array(properties.map { .string($0) }) }
        if !scalePoints.isEmpty {
            members["scale_points"] = .array(
                scalePoints.map { ["label": .string($0.label), "value": .double($0.value)] }
            )
        }
        if kind == .atom { members["midi"] = .bool(supportsMIDI) }
        return .object(members)
    }
}
