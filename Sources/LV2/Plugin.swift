/// An LV2 plugin as the catalogue describes it: enough to load it, wire it and range-check its controls.
public struct PluginInfo: Sendable, Equatable, Identifiable {
    public var uri: String
    public var name: String
    public var ports: [PortInfo]

    public var id: String { uri }

    public func port(symbol: String) -> PortInfo? { ports.first { $0.symbol == symbol } }

    public var audioInputs: [PortInfo] { ports.filter { $0.kind == .audio && $0.direction == .input } }
    public var audioOutputs: [PortInfo] { ports.filter { $0.kind == .audio && $0.direction == .output } }
    public var controlInputs: [PortInfo] { ports.filter { $0.kind == .control && $0.direction == .input } }
}

/// One port of a plugin.
public struct PortInfo: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case audio, control, cv, atom, event, other
    }

    public enum Direction: String, Sendable {
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

    /// `value` clamped into the declared range (unchanged where a bound is not declared).
    public func clamped(_ value: Double) -> Double {
        var result = value
        if let minimum { result = max(result, minimum) }
        if let maximum { result = min(result, maximum) }
        return result
    }
}

/// The LV2 plugins installed on this machine.
public struct PluginCatalogue: Sendable {
    public var plugins: [PluginInfo]

    public init(plugins: [PluginInfo]) { self.plugins = plugins }

    public func plugin(uri: String) -> PluginInfo? { plugins.first { $0.uri == uri } }
}
