public import Messaging

/// The session as the user left it: the current pedalboard (plugins, values, bypass, wires,
/// snapshots) and where it is saved. Pure data and rules, no I/O: the ``Session`` actor asks the
/// bridge first and records here only what the host accepted.
public struct SessionState: Sendable, Equatable {
    /// The current pedalboard; `nil` before any is created or loaded.
    public var pedalboard: Pedalboard?
    /// The store id it is saved under; `nil` while it has never been saved.
    public var storeID: String?

    public init(pedalboard: Pedalboard? = nil, storeID: String? = nil) {
        self.pedalboard = pedalboard
        self.storeID = storeID
    }

    public var plugins: [PluginInstance] { pedalboard?.plugins ?? [] }
    public var connections: [Connection] { pedalboard?.connections ?? [] }

    /// The instance, or `INSTANCE_NOT_FOUND`.
    public func instance(_ instanceID: String) throws(RPCError) -> PluginInstance {
        guard let plugin = pedalboard?.plugin(instanceID) else {
            throw RPCError(.instanceNotFound, "Plugin instance '\(instanceID)' not found")
        }
        return plugin
    }

    /// The lowest host instance number no plugin holds (mod-host accepts 0…9999).
    public func freeHostNumber() -> Int? {
        let used = Set(plugins.compactMap(\.hostNumber))
        return (0...9999).first { !used.contains($0) }
    }

    /// A fresh instance id, `plugin_<n>` with the lowest unused n.
    public func freeInstanceID() -> String {
        let used = Set(plugins.map(\.instanceID))
        var number = 0
        while used.contains("plugin_\(number)") { number += 1 }
        return "plugin_\(number)"
    }

    /// Gives plugins without a host number one, so every instance can be named in JACK.
    public mutating func assignHostNumbers() {
        guard var board = pedalboard else { return }
        var used = Set(board.plugins.compactMap(\.hostNumber))
        for index in board.plugins.indices where board.plugins[index].hostNumber == nil {
            guard let number = (0...9999).first(where: { !used.contains($0) }) else { break }
            board.plugins[index].hostNumber = number
            used.insert(number)
        }
        pedalboard = board
    }

    /// Makes sure there is a pedalboard to put plugins on: an unsaved "Untitled" one if needed.
    public mutating func ensurePedalboard() {
        if pedalboard == nil { pedalboard = Pedalboard(id: RequestID.make(), name: "Untitled") }
    }

    public mutating func add(_ plugin: PluginInstance) {
        ensurePedalboard()
        pedalboard?.plugins.append(plugin)
        touch()
    }

    /// Removes an instance, every wire to or from it and its addressings; returns the wires dropped.
    @discardableResult
    public mutating func remove(_ instanceID: String) -> [Connection] {
        guard var board = pedalboard else { return [] }
        board.plugins.removeAll { $0.instanceID == instanceID }
        board.addressings.removeAll(instanceID: instanceID)
        let dropped = board.connections.filter { $0.touches(instanceID) }
        board.connections.removeAll { $0.touches(instanceID) }
        pedalboard = board
        touch()
        return dropped
    }

    public mutating func setParameter(_ instanceID: String, _ symbol: String, _ value: Double) {
        guard let index = pedalboard?.pluginIndex(instanceID) else { return }
        pedalboard?.plugins[index].parameters[symbol] = value
        touch()
    }

    public mutating func setEnabled(_ instanceID: String, _ enabled: Bool) {
        guard let index = pedalboard?.pluginIndex(instanceID) else { return }
        pedalboard?.plugins[index].enabled = enabled
        touch()
    }

    public mutating func setPosition(_ instanceID: String, x: Double, y: Double) {
        guard let index = pedalboard?.pluginIndex(instanceID) else { return }
        pedalboard?.plugins[index].x = x
        pedalboard?.plugins[index].y = y
        touch()
    }

    public mutating func setPreset(_ instanceID: String, _ preset: String?, values: [String: Double]) {
        guard let index = pedalboard?.pluginIndex(instanceID) else { return }
        pedalboard?.plugins[index].preset = preset
        pedalboard?.plugins[index].parameters.merge(values) { $1 }
        touch()
    }

    public func connection(joining candidate: Connection) -> Connection? {
        connections.first { $0.joins(candidate) }
    }

    public mutating func add(_ connection: Connection) {
        ensurePedalboard()
        pedalboard?.connections.append(connection)
        touch()
    }

    public mutating func removeConnection(_ connectionID: String) {
        pedalboard?.connections.removeAll { $0.connectionID == connectionID }
        touch()
    }

    /// The values and bypass states of every plugin now.
    public func capture(id: String, name: String) -> Snapshot {
        Snapshot(
            id: id,
            name: name,
            pedalboardID: storeID ?? pedalboard?.id ?? "",
            pluginStates: Dictionary(uniqueKeysWithValues: plugins.map { ($0.instanceID, $0.parameters) }),
            enabled: Dictionary(uniqueKeysWithValues: plugins.map { ($0.instanceID, $0.enabled) })
        )
    }

    /// The lowest snapshot number not in use, as a string id.
    public func freeSnapshotID() -> String {
        let used = Set(pedalboard?.snapshots.map(\.id) ?? [])
        var number = 1
        while used.contains(String(number)) { number += 1 }
        return String(number)
    }

    /// The snapshot, or `NOT_FOUND`.
    public func snapshot(_ id: String) throws(RPCError) -> Snapshot {
        guard let snapshot = pedalboard?.snapshots.first(where: { $0.id == id }) else {
            throw RPCError(.notFound, "Snapshot '\(id)' not found")
        }
        return snapshot
    }

    public mutating func store(_ snapshot: Snapshot) {
        guard pedalboard != nil else { return }
        if let index = pedalboard?.snapshotIndex(snapshot.id) {
            pedalboard?.snapshots[index] = snapshot
        } else {
            pedalboard?.snapshots.append(snapshot)
        }
        pedalboard?.currentSnapshotID = snapshot.id
        touch()
    }

    public mutating func touch() { pedalboard?.modifiedAt = Timestamp.now() }

    /// What `current.json` holds: enough to rebuild the rig after a restart.
    public var json: JSONValue {
        [
            "_schema_version": .int(Pedalboard.schemaVersion), "store_id": storeID.map { .string($0) } ?? .null,
            "pedalboard": pedalboard?.json ?? .null,
        ]
    }

    public init(json: JSONValue) throws(RPCError) {
        guard case .object = json else { throw RPCError(.storageError, "The session file is not a JSON object") }
        var storeID = json["store_id"]?.stringValue
        if let id = storeID, (try? PedalboardStore.format(of: id)) == nil { storeID = nil }
        let pedalboard: Pedalboard?
        if let document = json["pedalboard"], !document.isNull {
            pedalboard = try Pedalboard(json: document, fallbackID: storeID ?? RequestID.make())
        } else {
            pedalboard = nil
        }
        self.init(pedalboard: pedalboard, storeID: storeID)
    }
}
