import Foundation
public import Messaging

/// Snapshots: every plugin's values and bypass, stored inside their pedalboard's file.
extension Session {
    /// A snapshot id as clients send it: a number or a string of the id alphabet.
    public static func snapshotID(_ value: JSONValue?) throws(RPCError) -> String {
        guard let value, !value.isNull else { throw RPCError(.invalidParameters, "Missing required parameter 'id'") }
        if let number = value.intValue { return String(number) }
        guard let text = value.stringValue else {
            throw RPCError(.invalidParameters, "Parameter 'id' must be a string or an integer, not \(value.typeName)")
        }
        try PedalboardStore.validate(id: text)
        return text
    }

    /// Captures the current values as a new snapshot (or over `overwriting`), stored at once.
    public func createSnapshot(name: String?, overwriting: String? = nil) throws(RPCError) -> JSONValue {
        guard state.pedalboard != nil else { throw RPCError(.notFound, "No pedalboard currently loaded") }
        let id = overwriting ?? state.freeSnapshotID()
        let existing = try? state.snapshot(id)
        let name = name ?? existing?.name ?? Self.defaultSnapshotName()
        try Self.checkName(name)
        var snapshot = state.capture(id: id, name: name)
        // A value never turned is at its default: stored too, so applying the snapshot puts it back.
        for plugin in state.plugins {
            for port in catalogue.plugin(uri: plugin.uri)?.controlInputs ?? [] {
                guard snapshot.pluginStates[plugin.instanceID]?[port.symbol] == nil, let value = port.defaultValue
                else { continue }
                snapshot.pluginStates[plugin.instanceID, default: [:]][port.symbol] = value
            }
        }
        var next = state
        next.store(snapshot)
        try persistSnapshots(of: next)
        state = next
        changed()
        publish("snapshot_created", ["snapshot_id": .string(id), "snapshot_name": .string(name)])
        return ["snapshot": snapshot.json, "id": .string(id)]
    }

    /// `save_snapshot`: over the current snapshot when there is one and no name is given, else new.
    public func saveSnapshot(name: String?) throws(RPCError) -> JSONValue {
        if name == nil, let current = state.pedalboard?.currentSnapshotID, (try? state.snapshot(current)) != nil {
            return try createSnapshot(name: nil, overwriting: current)
        }
        return try createSnapshot(name: name)
    }

    /// Sets every stored value and bypass state in the host, recording each as the host accepts it
    /// (a bridge lost half-way leaves the state saying what the host really has).
    public func applySnapshot(_ id: String) async throws -> JSONValue {
        try await exclusive {
            let snapshot = try state.snapshot(id)
            defer { changed() }
            var applied = 0
            var skipped: [JSONValue] = []
            for plugin in state.plugins {
                guard let info = catalogue.plugin(uri: plugin.uri) else { continue }
                for (symbol, value) in (snapshot.pluginStates[plugin.instanceID] ?? [:]).sorted(by: { $0.key < $1.key })
                {
                    guard (try? info.checkedControl(symbol, value: value)) != nil else {
                        skipped.append(.string("\(plugin.instanceID):\(symbol)"))
                        continue
                    }
                    try await bridge.plugin(
                        "set_parameter",
                        [
                            "instance_id": .string(bridgeID(plugin.instanceID)), "parameter": .string(symbol),
                            "value": .double(value),
                        ]
                    )
                    state.setParameter(plugin.instanceID, symbol, value)
                    applied += 1
                    publish(
                        "parameter_changed",
                        [
                            "instance_id": .string(plugin.instanceID), "parameter": .string(symbol),
                            "value": .double(value),
                        ]
                    )
                }
                if let enabled = snapshot.enabled[plugin.instanceID], enabled != plugin.enabled,
                    let number = plugin.hostNumber
                {
                    try await bridge.command("bypass", [.int(number), enabled ? 0 : 1])
                    state.setEnabled(plugin.instanceID, enabled)
                }
            }
            state.pedalboard?.currentSnapshotID = id
            publish(
                "snapshot_applied",
                [
                    "snapshot_id": .string(id), "snapshot_name": .string(snapshot.name),
                    "parameters_applied": .int(applied),
                ]
            )
            publishChange("snapshot_applied")
            return [
                "snapshot_id": .string(id), "snapshot_name": .string(snapshot.name),
                "parameters_applied": .int(applied), "skipped": .array(skipped),
            ]
        }
    }

    /// The snapshots as mod-ui's web client reads them (`snapshots`: `{"<id>": "<name>"}`), and in
    /// full, in order, under `list`.
    public func snapshotList() -> JSONValue {
        let snapshots = state.pedalboard?.snapshots ?? []
        return [
            "snapshots": .object(
                Dictionary(snapshots.map { ($0.id, JSONValue.string($0.name)) }) { first, _ in first }
            ),
            "list": .array(
                snapshots.map { ["id": .string($0.id), "name": .string($0.name), "created_at": .string($0.createdAt)] }
            ),
            "current": state.pedalboard?.currentSnapshotID.map { .string($0) } ?? .null,
        ]
    }

    public func renameSnapshot(_ id: String, to name: String) throws(RPCError) -> JSONValue {
        try Self.checkName(name)
        var snapshot = try state.snapshot(id)
        snapshot.name = name
        var next = state
        if let index = next.pedalboard?.snapshotIndex(id) { next.pedalboard?.snapshots[index] = snapshot }
        try persistSnapshots(of: next)
        state = next
        changed()
        return ["id": .string(id), "name": .string(name)]
    }

    public func removeSnapshot(_ id: String) throws(RPCError) -> JSONValue {
        _ = try state.snapshot(id)
        var next = state
        next.pedalboard?.snapshots.removeAll { $0.id == id }
        if next.pedalboard?.currentSnapshotID == id { next.pedalboard?.currentSnapshotID = nil }
        try persistSnapshots(of: next)
        state = next
        changed()
        return ["id": .string(id)]
    }

    public func snapshotName(_ id: String) throws(RPCError) -> JSONValue {
        ["id": .string(id), "name": .string(try state.snapshot(id).name)]
    }

    /// Writes `next`'s snapshots into its pedalboard's stored file (and nothing else of the unsaved
    /// rig) before the state takes them: a failed write changes nothing. A pedalboard never saved
    /// (or deleted since) keeps them in the session file until it is saved.
    func persistSnapshots(of next: SessionState) throws(RPCError) {
        guard let storeID = next.storeID, let board = next.pedalboard else { return }
        let document: JSONValue
        do {
            document = try store.pedalboards.load(id: storeID)
        } catch  where error.code == .notFound {
            return
        }
        guard case .object(var members) = document else { return }
        members["snapshots"] = .array(board.snapshots.map(\.json))
        members["current_snapshot_id"] = board.currentSnapshotID.map { .string($0) } ?? .null
        try storeBoard(.object(members), as: storeID)
    }

    static func defaultSnapshotName() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "Snapshot_\(parts.tm_year + 1900)\(pad(parts.tm_mon + 1))\(pad(parts.tm_mday))_"
            + "\(pad(parts.tm_hour))\(pad(parts.tm_min))\(pad(parts.tm_sec))"
    }
}
