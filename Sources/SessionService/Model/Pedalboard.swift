public import Messaging

/// A pedalboard in the reference's v1 schema (§5 of the session-manager spec), with its snapshots.
///
/// Unknown top-level keys of a stored file are kept in `extra` and written back, so a file from a
/// newer or foreign writer loses nothing by being loaded and saved here.
public struct Pedalboard: Sendable, Equatable {
    public static let schemaVersion = 1

    public var id: String
    public var name: String
    public var description: String
    public var plugins: [PluginInstance]
    public var connections: [Connection]
    public var createdAt: String
    public var modifiedAt: String
    public var metadata: [String: JSONValue]
    public var systemInputs: [String]
    public var systemOutputs: [String]
    public var snapshots: [Snapshot]
    /// The snapshot last applied or saved, for `get_snapshot_name` and `save_snapshot`.
    public var currentSnapshotID: String?
    /// Parameters bound to MIDI controllers and CV outputs, and the CV outputs offered as actuators.
    public var addressings = Addressings()
    public var extra: [String: JSONValue]

    public init(
        id: String,
        name: String,
        description: String = "",
        createdAt: String = Timestamp.now(),
        systemInputs: [String] = ["system:capture_1", "system:capture_2"],
        systemOutputs: [String] = ["system:playback_1", "system:playback_2"]
    ) {
        self.id = id
        self.name = name
        self.description = description
        plugins = []
        connections = []
        self.createdAt = createdAt
        modifiedAt = createdAt
        metadata = [:]
        self.systemInputs = systemInputs
        self.systemOutputs = systemOutputs
        snapshots = []
        currentSnapshotID = nil
        extra = [:]
    }

    public func plugin(_ instanceID: String) -> PluginInstance? { plugins.first { $0.instanceID == instanceID } }

    public func pluginIndex(_ instanceID: String) -> Int? { plugins.firstIndex { $0.instanceID == instanceID } }

    public func snapshotIndex(_ id: String) -> Int? { snapshots.firstIndex { $0.id == id } }

    /// The document as stored: v1 keys, `snapshots` and `current_snapshot_id` beside them.
    public var json: JSONValue {
        var members = extra
        members["id"] = .string(id)
        members["name"] = .string(name)
        members["description"] = .string(description)
        members["plugins"] = .array(plugins.map(\.json))
        members["connections"] = .array(connections.map(\.json))
        members["created_at"] = .string(createdAt)
        members["modified_at"] = .string(modifiedAt)
        members["metadata"] = .object(metadata)
        members["system_inputs"] = .array(systemInputs.map { .string($0) })
        members["system_outputs"] = .array(systemOutputs.map { .string($0) })
        members["snapshots"] = .array(snapshots.map(\.json))
        members["current_snapshot_id"] = currentSnapshotID.map { .string($0) } ?? .null
        members["addressings"] = addressings.json
        members["_schema_version"] = .int(Self.schemaVersion)
        return .object(members)
    }

    /// Reads a stored document, checking all of it before anything uses it: a file that fails here
    /// never touches the running rig.
    public init(json: JSONValue, fallbackID: String) throws(RPCError) {
        guard case .object(let members) = json else {
            throw RPCError(.storageError, "A pedalboard is a JSON object, not \(json.typeName)")
        }
        guard let name = members["name"]?.stringValue else {
            throw RPCError(.storageError, "The pedalboard has no name")
        }
        if let version = members["_schema_version"], version.intValue.map({ $0 > Self.schemaVersion }) ?? true {
            throw RPCError(.storageError, "Unsupported pedalboard schema version \(version.jsonText)")
        }
        func list(_ key: String) throws(RPCError) -> [JSONValue] {
            guard let value = members[key], !value.isNull else { return [] }
            guard let array = value.arrayValue else { throw RPCError(.storageError, "'\(key)' is not a list") }
            return array
        }
        func strings(_ key: String, _ fallback: [String]) throws(RPCError) -> [String] {
            guard members[key] != nil, !(members[key]?.isNull ?? true) else { return fallback }
            let values = try list(key).compactMap(\.stringValue)
            return values
        }
        var plugins: [PluginInstance] = []
        for entry in try list("plugins") {
            guard let plugin = PluginInstance(json: entry) else {
                throw RPCError(
                    .storageError,
                    "A plugin entry lacks its uri or instance_id: \(entry.jsonText.prefix(200))"
                )
            }
            guard !plugins.contains(where: { $0.instanceID == plugin.instanceID }) else {
                throw RPCError(.storageError, "Instance '\(plugin.instanceID)' appears twice")
            }
            plugins.append(plugin)
        }
        var connections: [Connection] = []
        for entry in try list("connections") {
            guard let connection = Connection(json: entry) else {
                throw RPCError(.storageError, "A connection entry lacks its ends: \(entry.jsonText.prefix(200))")
            }
            connections.append(connection)
        }
        var snapshots: [Snapshot] = []
        for entry in try list("snapshots") {
            guard let snapshot = Snapshot(json: entry) else {
                throw RPCError(.storageError, "A snapshot entry lacks its id: \(entry.jsonText.prefix(200))")
            }
            snapshots.append(snapshot)
        }
        self.init(
            id: members["id"]?.stringValue ?? fallbackID,
            name: name,
            description: members["description"]?.stringValue ?? "",
            createdAt: members["created_at"]?.stringValue ?? Timestamp.now(),
            systemInputs: try strings("system_inputs", ["system:capture_1", "system:capture_2"]),
            systemOutputs: try strings("system_outputs", ["system:playback_1", "system:playback_2"])
        )
        self.plugins = plugins
        self.connections = connections
        self.snapshots = snapshots
        modifiedAt = members["modified_at"]?.stringValue ?? createdAt
        metadata = members["metadata"]?.objectValue ?? [:]
        currentSnapshotID = members["current_snapshot_id"]?.stringValue
        addressings = Addressings(json: members["addressings"])
        let known: Set<String> = [
            "id", "name", "description", "plugins", "connections", "created_at", "modified_at", "metadata",
            "system_inputs", "system_outputs", "snapshots", "current_snapshot_id", "_schema_version", "addressings",
        ]
        extra = members.filter { !known.contains($0.key) }
    }
}
