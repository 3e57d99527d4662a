public import Messaging

/// Every plugin's values (and bypass) at one moment, stored inside its pedalboard's file.
public struct Snapshot: Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: String
    public var pedalboardID: String
    /// instance id → symbol → value.
    public var pluginStates: [String: [String: Double]]
    /// instance id → enabled (not bypassed).
    public var enabled: [String: Bool]

    public init(
        id: String,
        name: String,
        createdAt: String = Timestamp.now(),
        pedalboardID: String,
        pluginStates: [String: [String: Double]],
        enabled: [String: Bool]
    ) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.pedalboardID = pedalboardID
        self.pluginStates = pluginStates
        self.enabled = enabled
    }

    /// The reference's shape (`id, name, created_at, pedalboard_id, plugin_states`) plus `enabled`.
    public var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "created_at": .string(createdAt),
            "pedalboard_id": .string(pedalboardID),
            "plugin_states": .object(pluginStates.mapValues { .object($0.mapValues { .double($0) }) }),
            "enabled": .object(enabled.mapValues { .bool($0) }),
        ]
    }

    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue ?? json["id"]?.intValue.map(String.init) else { return nil }
        var states: [String: [String: Double]] = [:]
        for (instance, values) in json["plugin_states"]?.objectValue ?? [:] {
            states[instance] = (values.objectValue ?? [:]).compactMapValues(\.doubleValue)
        }
        self.init(
            id: id,
            name: json["name"]?.stringValue ?? id,
            createdAt: json["created_at"]?.stringValue ?? Timestamp.now(),
            pedalboardID: json["pedalboard_id"]?.stringValue ?? "",
            pluginStates: states,
            enabled: (json["enabled"]?.objectValue ?? [:]).compactMapValues(\.boolValue)
        )
    }
}
