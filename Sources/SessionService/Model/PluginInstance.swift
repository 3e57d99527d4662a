public import Messaging

/// One plugin on the current pedalboard: what it is, where it sits, and every value the user set.
///
/// `parameters` holds only values that were set (or saved); the catalogue supplies the defaults.
/// `hostNumber` is the LV2 host's instance number (`effect_<n>` in JACK), kept so a re-sync after a
/// crash puts every plugin back under the same number.
public struct PluginInstance: Sendable, Equatable {
    public var instanceID: String
    public var uri: String
    public var name: String
    public var brand: String
    public var version: String
    public var x: Double
    public var y: Double
    public var parameters: [String: Double]
    /// `false` when bypassed.
    public var enabled: Bool
    public var preset: String?
    public var createdAt: String
    public var hostNumber: Int?
    /// Values of the plugin's patch parameters (`patch:writable`), by property URI, as text: a
    /// file's path, a string or a number, as set through `set_patch_parameter`.
    public var patch: [String: String] = [:]

    public init(
        instanceID: String,
        uri: String,
        name: String,
        brand: String = "",
        version: String = "",
        x: Double = 0,
        y: Double = 0,
        parameters: [String: Double] = [:],
        enabled: Bool = true,
        preset: String? = nil,
        createdAt: String = Timestamp.now(),
        hostNumber: Int? = nil
    ) {
        self.instanceID = instanceID
        self.uri = uri
        self.name = name
        self.brand = brand
        self.version = version
        self.x = x
        self.y = y
        self.parameters = parameters
        self.enabled = enabled
        self.preset = preset
        self.createdAt = createdAt
        self.hostNumber = hostNumber
    }

    /// The stored form: the reference's `PluginInstance` keys, plus `host_instance`.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "instance_id": .string(instanceID), "uri": .string(uri), "name": .string(name),
            "brand": .string(brand), "version": .string(version), "x": .double(x), "y": .double(y),
            "parameters": .object(parameters.mapValues { .double($0) }), "enabled": .bool(enabled),
            "preset": preset.map { .string($0) } ?? .null, "created_at": .string(createdAt),
        ]
        if let hostNumber { members["host_instance"] = .int(hostNumber) }
        if !patch.isEmpty { members["patch"] = .object(patch.mapValues { .string($0) }) }
        return .object(members)
    }

    /// Reads a stored instance (ours or the reference's); `nil` without a string `uri` and `instance_id`.
    public init?(json: JSONValue) {
        guard let uri = json["uri"]?.stringValue, !uri.isEmpty else { return nil }
        let id = json["instance_id"]?.stringValue ?? json["instance_id"]?.intValue.map(String.init)
        guard let id else { return nil }
        var parameters: [String: Double] = [:]
        for (symbol, value) in json["parameters"]?.objectValue ?? [:] {
            if let number = value.doubleValue { parameters[symbol] = number }
        }
        self.init(
            instanceID: id,
            uri: uri,
            name: json["name"]?.stringValue ?? uri,
            brand: json["brand"]?.stringValue ?? "",
            version: json["version"]?.stringValue ?? "",
            x: json["x"]?.doubleValue ?? 0,
            y: json["y"]?.doubleValue ?? 0,
            parameters: parameters,
            enabled: json["enabled"]?.boolValue ?? true,
            preset: json["preset"]?.stringValue,
            createdAt: json["created_at"]?.stringValue ?? Timestamp.now(),
            hostNumber: json["host_instance"]?.intValue.flatMap { (0...9999).contains($0) ? $0 : nil }
        )
        patch = (json["patch"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}

/// A wire between two ports: a plugin's port, or a hardware port of plugin `system`
/// (`system:capture_1`, `system:playback_2`).
public struct Connection: Sendable, Equatable {
    /// The pseudo-instance of the audio interface's ports.
    public static let system = "system"

    public var connectionID: String
    public var sourcePlugin: String
    public var sourcePort: String
    public var targetPlugin: String
    public var targetPort: String

    public init(
        connectionID: String = RequestID.make(),
        sourcePlugin: String,
        sourcePort: String,
        targetPlugin: String,
        targetPort: String
    ) {
        self.connectionID = connectionID
        self.sourcePlugin = sourcePlugin
        self.sourcePort = sourcePort
        self.targetPlugin = targetPlugin
        self.targetPort = targetPort
    }

    /// `"instance:port"`, as the events name ends.
    public var source: String { "\(sourcePlugin):\(sourcePort)" }
    public var target: String { "\(targetPlugin):\(targetPort)" }

    public func touches(_ instanceID: String) -> Bool { sourcePlugin == instanceID || targetPlugin == instanceID }

    /// Same ends, whatever the id.
    public func joins(_ other: Connection) -> Bool { source == other.source && target == other.target }

    public var json: JSONValue {
        [
            "connection_id": .string(connectionID), "source_plugin": .string(sourcePlugin),
            "source_port": .string(sourcePort), "target_plugin": .string(targetPlugin),
            "target_port": .string(targetPort),
        ]
    }

    public init?(json: JSONValue) {
        guard let sourcePlugin = json["source_plugin"]?.stringValue, let sourcePort = json["source_port"]?.stringValue,
            let targetPlugin = json["target_plugin"]?.stringValue, let targetPort = json["target_port"]?.stringValue
        else { return nil }
        self.init(
            connectionID: json["connection_id"]?.stringValue ?? RequestID.make(),
            sourcePlugin: sourcePlugin,
            sourcePort: sourcePort,
            targetPlugin: targetPlugin,
            targetPort: targetPort
        )
    }
}
