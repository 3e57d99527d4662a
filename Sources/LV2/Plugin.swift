/// An LV2 plugin as the catalogue describes it: enough to list it, load it, wire it and
/// range-check its controls.
public struct PluginInfo: Sendable, Equatable, Identifiable, Codable {
    public var uri: String
    public var name: String
    /// `doap:maintainer`'s name, or the project's; empty when the bundle names nobody.
    public var brand: String = ""
    public var author: String = ""
    /// `lv2:minorVersion`.`lv2:microVersion`, "0.0" when undeclared.
    public var version: String = "0.0"
    /// The plugin's class label ("Amplifier", "Distortion", …).
    public var category: String = ""
    public var bundleURI: String = ""
    public var ports: [PortInfo]
    /// Presets, sorted by label.
    public var presets: [PresetInfo] = []
    /// Features the plugin cannot run without (`lv2:requiredFeature`).
    public var requiredFeatures: [String] = []
    public var optionalFeatures: [String] = []
    /// The MOD web interface, when the bundle describes one.
    public var modgui: ModGUI?

    public var id: String { uri }

    public init(uri: String, name: String, ports: [PortInfo]) {
        self.uri = uri
        self.name = name
        self.ports = ports
    }

    public func port(symbol: String) -> PortInfo? { ports.first { $0.symbol == symbol } }

    public var audioInputs: [PortInfo] { ports.filter { $0.kind == .audio && $0.direction == .input } }
    public var audioOutputs: [PortInfo] { ports.filter { $0.kind == .audio && $0.direction == .output } }
    public var controlInputs: [PortInfo] { ports.filter { $0.kind == .control && $0.direction == .input } }
    public var controlOutputs: [PortInfo] { ports.filter { $0.kind == .control && $0.direction == .output } }
}

/// One port of a plugin.
public struct PortInfo: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case audio, control, cv, atom, event, other
    }

    public enum Direction: String, Sendable, Codable {
        case input, output
    }

    public var index: Int
    public var symbol: String
    public var name: String
    public var kind: Kind
    public var direction: Direction
    /// Control ports: the plugin's declared default, minimum and maximum, when it declares them.
    public var defaultValue: Double?
    public var minimum: Double?
    public var maximum: Double?
    /// The unit's symbol ("dB", "Hz", "ms"), when the port declares a unit.
    public var unit: String?
    /// `lv2:integer`, `lv2:toggled`, `lv2:enumeration`, `pprops:logarithmic`, … as their local names.
    public var properties: [String] = []
    public var scalePoints: [ScalePoint] = []
    /// Atom ports: whether they carry MIDI events.
    public var supportsMIDI = false
    /// The port's `lv2:designation` as a local name (`enabled`, `freeWheeling`), if it has one.
    public var designation: String?

    public init(
        index: Int,
        symbol: String,
        name: String,
        kind: Kind,
        direction: Direction,
        defaultValue: Double? = nil,
        minimum: Double? = nil,
        maximum: Double? = nil
    ) {
        self.index = index
        self.symbol = symbol
        self.name = name
        self.kind = kind
        self.direction = direction
        self.defaultValue = defaultValue
        self.minimum = minimum
        self.maximum = maximum
    }

    /// `value` clamped into the declared range (unchanged where a bound is not declared).
    public func clamped(_ value: Double) -> Double {
        var result = value
        if let minimum { result = max(result, minimum) }
        if let maximum { result = min(result, maximum) }
        return result
    }
}

/// A labelled value of a control port.
public struct ScalePoint: Sendable, Equatable, Codable {
    public var label: String
    public var value: Double
}

/// A preset shipped with (or saved for) a plugin.
public struct PresetInfo: Sendable, Equatable, Codable {
    public var uri: String
    public var label: String
}

/// The LV2 plugins installed on this machine.
public struct PluginCatalogue: Sendable {
    public var plugins: [PluginInfo]

    public init(plugins: [PluginInfo]) { self.plugins = plugins }

    public func plugin(uri: String) -> PluginInfo? { plugins.first { $0.uri == uri } }

    /// Plugins whose URI, name, brand or category contains `text`, case-insensitively.
    public func search(_ text: String) -> [PluginInfo] {
        let needle = text.lowercased()
        guard !needle.isEmpty else { return plugins }
        return plugins.filter { plugin in
            [plugin.uri, plugin.name, plugin.brand, plugin.category].contains { $0.lowercased().contains(needle) }
        }
    }
}
