import Foundation
import LV2
public import Messaging

/// Pedalboards: create, save in place, list, load (checked before the rig is touched), rename,
/// duplicate, delete, export/import inside the data directory, reset.
extension Session {
    /// A pedalboard named by `id` (its store id) or, failing that, by `name` (first match).
    public enum Reference: Sendable {
        case id(String)
        case name(String)
        /// The board's path, as listed in `bundlepath`: only a board of this session's pedalboard
        /// folder; any other path (`..`, another folder, a link's trick) is refused, never opened.
        case bundlePath(String)
    }

    /// Where a stored board is, as clients name it (`bundlepath`).
    func bundlePath(id: String) -> String { store.pedalboards.path(id) }

    /// Writes a board to the store; a bundle's port lists come from the installed plugins.
    func storeBoard(_ document: JSONValue, as id: String) throws(RPCError) {
        let uris = (document["plugins"]?.arrayValue ?? []).compactMap { $0["uri"]?.stringValue }
        try store.pedalboards.save(id: id, document: document, catalogue: catalogue.catalogue(uris: uris))
    }

    /// The stored document and its store id.
    func stored(_ reference: Reference) throws(RPCError) -> (id: String, document: JSONValue) {
        switch reference {
        case .bundlePath(let path):
            let id = try storeID(bundlePath: path)
            return (id, try store.pedalboards.load(id: id))
        case .id(let id):
            return (id, try store.pedalboards.load(id: id))
        case .name(let name):
            guard
                let found = store.pedalboards.list().pedalboards.first(where: {
                    $0.document["name"]?.stringValue == name
                })
            else { throw RPCError(.notFound, "Pedalboard '\(name)' not found") }
            return found
        }
    }

    /// The store id of the board at `path`: a bundle folder or JSON file directly in this session's
    /// pedalboard folder, links resolved. Any other path (`..`, another folder, a link that leads
    /// out) is INVALID_PARAMETERS and nothing there is read.
    func storeID(bundlePath path: String) throws(RPCError) -> String {
        let refused = RPCError(.invalidParameters, "'\(path)' is not a pedalboard of this session")
        guard path.hasPrefix("/") else { throw refused }
        var file = URL(fileURLWithPath: path).standardized
        if file.path.hasSuffix("/") { file = file.deletingLastPathComponent() }
        let folder = URL(fileURLWithPath: store.pedalboards.folder).standardized
        let name = file.lastPathComponent
        let id = name.hasSuffix(".json") ? String(name.dropLast(".json".count)) : name
        guard file.deletingLastPathComponent().path == folder.path,
            name.hasSuffix(".json") || name.hasSuffix(ModBundle.suffix),
            (try? PedalboardStore.format(of: id)) != nil
        else { throw refused }
        let real = file.resolvingSymlinksInPath().deletingLastPathComponent().path
        guard real == folder.resolvingSymlinksInPath().path else { throw refused }
        return id
    }

    /// Starts an empty pedalboard and saves it at once under a stable id.
    public func createPedalboard(name: String, description: String) async throws -> JSONValue {
        try Self.checkName(name)
        return try await exclusive {
            try await unloadAll()
            let board = Pedalboard(
                id: store.pedalboards.newBundleID(title: name),
                name: name,
                description: description
            )
            try storeBoard(board.json, as: board.id)
            state = SessionState(pedalboard: board, storeID: board.id)
            bridgeIDs = [:]
            changed()
            publish(
                "pedalboard_created",
                ["id": .string(board.id), "name": .string(name), "description": .string(description)]
            )
            return ["pedalboard_id": .string(board.id), "pedalboard": describeCurrent()]
        }
    }

    /// The current pedalboard; never writes anything (the reference saved a new file on every call).
    public func currentPedalboard() -> JSONValue {
        [
            "pedalboard": describeCurrent(), "store_id": state.storeID.map { .string($0) } ?? .null,
            "saved": .bool(state.storeID != nil),
        ]
    }

    /// Saves the current board, renamed to `name` if given; `asNew` saves it as another board (its
    /// own id and file) and makes that one current, leaving the one it came from as it was.
    public func saveCurrent(name: String?, asNew: Bool = false) throws(RPCError) -> JSONValue {
        guard var board = state.pedalboard else { throw RPCError(.notFound, "No pedalboard currently loaded") }
        if let name {
            try Self.checkName(name)
            board.name = name
        }
        let storeID: String
        if let current = state.storeID, !asNew {
            storeID = current
        } else {
            storeID = store.pedalboards.newBundleID(title: board.name)
            board.id = storeID
        }
        board.metadata["saved_at"] = .string(Timestamp.now())
        board.modifiedAt = Timestamp.now()
        try storeBoard(board.json, as: storeID)
        state.pedalboard = board
        state.storeID = storeID
        changed()
        let path = bundlePath(id: storeID)
        publish("pedalboard_saved", ["id": .string(storeID), "name": .string(board.name), "saved_path": .string(path)])
        return [
            "pedalboard": describeCurrent(), "saved_id": .string(storeID), "saved_path": .string(path),
            "bundlepath": .string(path), "title": .string(board.name),
        ]
    }

    /// Every readable pedalboard, and every file that is not one.
    public func pedalboardList() -> JSONValue {
        let (pedalboards, problems) = store.pedalboards.list()
        pedalboardProblems = problems
        let all = (startupProblems + problems).map { "\($0.file): \($0.reason)" }
        facts.withLock { $0.problems = all }
        return [
            "pedalboards": .array(
                pedalboards.map { entry in
                    let path = bundlePath(id: entry.id)
                    let missing = missingPlugins(entry.document)
                    return [
                        "id": .string(entry.id), "path": .string(path), "name": entry.document["name"] ?? .null,
                        "metadata": entry.document["metadata"] ?? [:],
                        "description": entry.document["description"] ?? "",
                        "plugin_count": .int(entry.document["plugins"]?.arrayValue?.count ?? 0),
                        "snapshot_count": .int(entry.document["snapshots"]?.arrayValue?.count ?? 0),
                        // What mod-ui's web client reads: the title, the path it names the board
                        // by, and whether it can play here (every plugin installed).
                        "title": .string(entry.document["name"]?.stringValue ?? entry.id),
                        "bundlepath": .string(path), "broken": .bool(!missing.isEmpty),
                        "missing_plugins": .array(missing.map { .string($0) }), "factory": false,
                        "hasScreenshot": false,
                    ]
                }
            ),
            "problems": .array(problems.map { ["file": .string($0.file), "reason": .string($0.reason)] }),
        ]
    }

    /// The stored board, whole under `pedalboard`, and in the shape mod-ui's web client reads:
    /// `title`, `plugins`, `connections` as `[source, target]` pairs of `instance:port`, `hardware`.
    public func pedalboardInfo(_ reference: Reference) throws(RPCError) -> JSONValue {
        let (id, document) = try stored(reference)
        let pairs = (document["connections"]?.arrayValue ?? []).compactMap { wire -> JSONValue? in
            guard let sourcePlugin = wire["source_plugin"]?.stringValue,
                let sourcePort = wire["source_port"]?.stringValue,
                let targetPlugin = wire["target_plugin"]?.stringValue, let targetPort = wire["target_port"]?.stringValue
            else { return nil }
            return [.string("\(sourcePlugin):\(sourcePort)"), .string("\(targetPlugin):\(targetPort)")]
        }
        let missing = missingPlugins(document)
        return [
            "id": .string(id), "pedalboard": document, "bundlepath": .string(bundlePath(id: id)),
            "title": .string(document["name"]?.stringValue ?? id), "plugins": document["plugins"] ?? [],
            "connections": .array(pairs), "broken": .bool(!missing.isEmpty),
            "missing_plugins": .array(missing.map { .string($0) }),
            "hardware": [
                "audio_ins": .array((document["system_inputs"]?.arrayValue ?? [])),
                "audio_outs": .array((document["system_outputs"]?.arrayValue ?? [])),
            ],
            "width": 0, "height": 0,
        ]
    }

    /// The URIs of `document`'s plugins that are not installed.
    func missingPlugins(_ document: JSONValue) -> [String] {
        let uris = (document["plugins"]?.arrayValue ?? []).compactMap { $0["uri"]?.stringValue }
        return Array(Set(uris.filter { !catalogue.contains(uri: $0) })).sorted()
    }

    /// Loads a stored pedalboard into the host. The file is read and checked in full first (schema,
    /// every plugin URI installed, every value in range, every wire's ends present): a bad file
    /// changes nothing.
    public func loadPedalboard(_ reference: Reference) async throws -> JSONValue {
        let (storeID, document) = try stored(reference)
        var board = try Pedalboard(json: document, fallbackID: storeID)
        try check(board)
        if !board.plugins.isEmpty && !bridge.status.bridgeConnected {
            throw RPCError(.bridgeError, "Bridge not reachable at \(bridge.settings.endpoint)")
        }
        return try await exclusive {
            try await unloadAll()
            var next = SessionState(pedalboard: board, storeID: storeID)
            next.assignHostNumbers()
            board = next.pedalboard ?? board
            let systemWiring =
                board.connections.contains { $0.touches(Connection.system) }
                ? [] : SystemWiring.wires(for: board, catalogue: catalogue.catalogue(uris: board.plugins.map(\.uri)))
            next.pedalboard?.connections += systemWiring
            state = next
            bridgeIDs = [:]
            let outcome = await applyRig(reconciling: false)
            changed()
            if !systemWiring.isEmpty {
                publish(
                    "system_io_validation",
                    [
                        "pedalboard_id": .string(storeID), "strategy": "first_and_last_plugin",
                        "missing_inputs": [], "missing_outputs": [],
                        "resolved_inputs": .array(board.systemInputs.map { .string($0) }),
                        "resolved_outputs": .array(board.systemOutputs.map { .string($0) }),
                    ]
                )
            }
            publish(
                "pedalboard_loaded",
                [
                    "id": .string(storeID), "name": .string(board.name), "plugins_loaded": .int(outcome.pluginsLoaded),
                    "connections_created": .int(outcome.connectionsCreated),
                    "system_io_setup": .bool(!systemWiring.isEmpty),
                ]
            )
            return [
                "pedalboard": describeCurrent(), "plugins_loaded": .int(outcome.pluginsLoaded),
                "connections_created": .int(outcome.connectionsCreated), "failed": .array(outcome.failures),
            ]
        }
    }

    /// Everything a stored pedalboard needs to load: its plugins installed, its values in range,
    /// its wires between ports that exist.
    func check(_ board: Pedalboard) throws(RPCError) {
        for plugin in board.plugins {
            try PedalboardStore.validate(id: plugin.instanceID)
            let info = try catalogue.require(uri: plugin.uri)
            for (symbol, value) in plugin.parameters { _ = try info.checkedControl(symbol, value: value) }
        }
        for connection in board.connections {
            for (plugin, port, direction) in [
                (connection.sourcePlugin, connection.sourcePort, PortInfo.Direction.output),
                (connection.targetPlugin, connection.targetPort, PortInfo.Direction.input),
            ] where plugin != Connection.system {
                guard let instance = board.plugin(plugin) else {
                    throw RPCError(
                        .storageError,
                        "A connection names instance '\(plugin)', which is not on the pedalboard"
                    )
                }
                _ = try catalogue.require(uri: instance.uri).checkedPort(port, direction: direction)
            }
        }
    }

    /// Deletes a stored pedalboard; if it is the current one, that stays loaded but unsaved.
    public func deletePedalboard(_ reference: Reference) throws(RPCError) -> JSONValue {
        let (id, _) = try stored(reference)
        try store.pedalboards.delete(id: id)
        if state.storeID == id {
            state.storeID = nil
            changed()
        }
        publish("pedalboard_deleted", ["id": .string(id)])
        return ["deleted_id": .string(id)]
    }

    public func renamePedalboard(_ reference: Reference, to name: String) throws(RPCError) -> JSONValue {
        try Self.checkName(name)
        let (id, document) = try stored(reference)
        var board = try Pedalboard(json: document, fallbackID: id)
        board.name = name
        board.modifiedAt = Timestamp.now()
        try storeBoard(board.json, as: id)
        if state.storeID == id {
            state.pedalboard?.name = name
            changed()
            publishChange("renamed")
        }
        return ["pedalboard_id": .string(id), "name": .string(name)]
    }

    public func duplicatePedalboard(_ reference: Reference, as name: String) throws(RPCError) -> JSONValue {
        try Self.checkName(name)
        let (id, document) = try stored(reference)
        var board = try Pedalboard(json: document, fallbackID: id)
        board.id = store.pedalboards.newBundleID(title: name)
        board.name = name
        board.createdAt = Timestamp.now()
        board.modifiedAt = board.createdAt
        try storeBoard(board.json, as: board.id)
        publish(
            "pedalboard_created",
            ["id": .string(board.id), "name": .string(name), "description": .string(board.description)]
        )
        return ["pedalboard_id": .string(board.id), "pedalboard": board.json]
    }

    /// Writes a stored pedalboard (or the current one) to `exports/<filename>` — never elsewhere.
    public func exportPedalboard(_ reference: Reference?, filename: String) throws(RPCError) -> JSONValue {
        let path = try store.exportPath(filename)
        let document: JSONValue
        if let reference {
            document = try stored(reference).document
        } else {
            guard let board = state.pedalboard else { throw RPCError(.notFound, "No pedalboard currently loaded") }
            document = board.json
        }
        try DurableFile.write(document, to: path)
        return ["exported_file": .string(path)]
    }

    /// Reads `exports/<filename>`, checks it is a pedalboard, and stores it under a new id.
    public func importPedalboard(filename: String) throws(RPCError) -> JSONValue {
        let path = try store.exportPath(filename)
        guard let document = try DurableFile.read(path) else {
            throw RPCError(.notFound, "No file \(filename) in exports/")
        }
        var board = try Pedalboard(json: document, fallbackID: RequestID.make())
        board.id = store.pedalboards.newBundleID(title: board.name)
        try storeBoard(board.json, as: board.id)
        return ["imported_id": .string(board.id), "imported_path": .string(bundlePath(id: board.id))]
    }

    /// Empties the rig and starts a new, unsaved board (as mod-ui's reset does): the board that was
    /// loaded stays as it was saved, and the next save makes a board of its own instead of
    /// overwriting that one.
    public func reset() async throws -> JSONValue {
        try await exclusive {
            try await unloadAll()
            state = SessionState(pedalboard: Pedalboard(id: RequestID.make(), name: "Untitled"), storeID: nil)
            bridgeIDs = [:]
            changed()
            publish("session_reset", ["bank_id": .null, "timestamp": .string(Timestamp.now())])
            publishChange("reset")
            return ["message": "Session reset"]
        }
    }

    /// Unloads every instance from the host. Refuses (changing nothing) while the bridge is down.
    func unloadAll() async throws(RPCError) {
        guard !state.plugins.isEmpty else { return }
        guard bridge.status.bridgeConnected else {
            throw RPCError(.bridgeError, "Bridge not reachable at \(bridge.settings.endpoint)")
        }
        for plugin in state.plugins.reversed() {
            do {
                try await bridge.plugin("unload_plugin", ["instance_id": .string(bridgeID(plugin.instanceID))])
            } catch {
                guard bridgeAnswers else { throw error }
            }
            publish("plugin_unloaded", ["instance_id": .string(plugin.instanceID), "uri": .string(plugin.uri)])
        }
    }

    /// Names of pedalboards and snapshots: text, 1 to 256 bytes, no control characters. They are
    /// never used as paths.
    static func checkName(_ name: String) throws(RPCError) {
        guard (1...256).contains(name.utf8.count),
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw RPCError(.invalidParameters, "A name is 1 to 256 bytes of text without control characters") }
    }
}
