import Foundation
import LV2
import Messaging

/// Plugins, pedalboards, connections, snapshots and settings on their wire names and parameter
/// spellings (§3 of the session-manager spec, with §8's decisions).
extension SessionServer {
    static func registerPlugins(_ router: inout RPCRouter, _ session: Session) {
        router.method("get_available_plugins") { _ in await session.availablePlugins() }
        router.method("list_plugins") { _ in await session.pluginList() }
        router.method("get_plugins_bulk") { request in
            guard let uris = request.params["uris"]?.arrayValue, !uris.isEmpty else {
                throw RPCError(.invalidParameters, "'uris' must be a non-empty list of strings")
            }
            let strings = uris.compactMap(\.stringValue)
            guard strings.count == uris.count else { throw RPCError(.invalidParameters, "'uris' must hold strings") }
            return await session.pluginsBulk(strings)
        }
        router.method("get_plugin_info_by_uri") { request in
            try await session.pluginInfo(uri: try request.string("uri"))
        }
        router.method("rescan_plugins") { _ in
            let cache = Self.catalogueCache(dataDirectory: session.store.dataDirectory)
            return await install(in: session) { PluginCatalogue.loadStored(cache: cache, rescanning: true) }
        }
        router.method("get_plugin_image") { request in
            try await session.pluginImage(
                uri: try request.string(oneOf: ["plugin_uri", "uri"]),
                imageType: try request.string("image_type")
            )
        }
        router.method("get_plugin_file") { request in
            try await session.pluginFile(
                uri: try request.string(oneOf: ["plugin_uri", "uri"]),
                fileType: try request.string("file_type")
            )
        }
        router.method("get_plugin_custom_file") { request in
            try await session.pluginCustomFile(
                uri: try request.string(oneOf: ["plugin_uri", "uri"]),
                filename: try request.string("filename")
            )
        }
        for name in ["load_plugin", "add_plugin"] {
            router.method(name) { request in
                var parameters: [String: Double] = [:]
                if let given = request.params["parameters"], !given.isNull {
                    guard let members = given.objectValue else {
                        throw RPCError(.invalidParameters, "'parameters' must be an object of numbers")
                    }
                    for (symbol, value) in members {
                        guard let number = value.doubleValue else {
                            throw RPCError(.invalidParameters, "Parameter '\(symbol)' must be a number")
                        }
                        parameters[symbol] = number
                    }
                }
                return try await session.loadPlugin(
                    uri: try request.string("uri"),
                    instanceID: try request.optionalString("instance_id"),
                    x: try request.optionalDouble("x") ?? 0,
                    y: try request.optionalDouble("y") ?? 0,
                    parameters: parameters
                )
            }
        }
        for name in ["unload_plugin", "remove_plugin"] {
            router.method(name) { request in try await session.unloadPlugin(try request.string("instance_id")) }
        }
        router.method("get_plugin_info") { request in try await session.instanceInfo(try request.string("instance_id"))
        }
        router.method("list_instances") { _ in await session.instances() }
        router.method("set_parameter") { request in
            guard let value = request.params["value"]?.doubleValue else {
                throw RPCError(.invalidParameters, "Parameter 'value' must be a number")
            }
            return try await session.setParameter(
                try request.string("instance_id"),
                symbol: try request.string(oneOf: ["parameter", "port"]),
                value: value
            )
        }
        router.method("get_parameter") { request in
            try await session.parameter(
                try request.string("instance_id"),
                symbol: try request.string(oneOf: ["port", "parameter"])
            )
        }
        for name in ["set_bypass", "bypass_plugin"] {
            router.method(name) { request in
                let bypassed: Bool
                if let flag = try request.optionalBool("bypass") ?? request.optionalBool("bypassed") {
                    bypassed = flag
                } else {
                    bypassed = !(try request.bool("enabled"))
                }
                return try await session.setBypass(try request.string("instance_id"), bypassed: bypassed)
            }
        }
        router.method("set_plugin_position") { request in
            try await session.setPosition(
                try request.string("instance_id"),
                x: try request.double("x"),
                y: try request.double("y")
            )
        }
        router.method("load_preset") { request in
            try await session.loadPreset(
                try request.string("instance_id"),
                presetURI: try request.string(oneOf: ["preset_uri", "uri", "preset"])
            )
        }
        router.method("save_preset") { request in
            try await session.savePreset(
                try request.string("instance_id"),
                label: try request.string(oneOf: ["label", "preset_name", "name"]),
                uri: try request.optionalString("uri")
            )
        }
        router.method("show_presets") { request in
            if let uri = try request.optionalString("uri") ?? request.optionalString("plugin_uri") {
                return try await session.presets(uri: uri)
            }
            let instance = try await session.instanceURI(try request.string("instance_id"))
            return try await session.presets(uri: instance)
        }
    }

    static func registerPedalboards(_ router: inout RPCRouter, _ session: Session) {
        router.method("create_pedalboard") { request in
            try await session.createPedalboard(
                name: try request.string("name"),
                description: try request.optionalString("description") ?? ""
            )
        }
        router.method("get_current_pedalboard") { _ in await session.currentPedalboard() }
        for name in ["save_pedalboard", "save_current_pedalboard"] {
            router.method(name) { request in
                try await session.saveCurrent(
                    name: try request.optionalString("name") ?? request.optionalString("title"),
                    asNew: try request.optionalFlag("as_new") ?? false
                )
            }
        }
        router.method("get_pedalboard_list") { _ in await session.pedalboardList() }
        router.method("get_pedalboard_info") { request in try await session.pedalboardInfo(try request.pedalboard()) }
        router.method("load_pedalboard") { request in try await session.loadPedalboard(try request.pedalboard()) }
        // mod-ui's name for it: the board by its bundle path, and its name at the top of the reply.
        router.method("load_pedalboard_bundle") { request in
            _ = try request.optionalFlag("is_default")
            let reply = try await session.loadPedalboard(.bundlePath(try request.string("bundlepath")))
            guard case .object(var members) = reply else { return reply }
            members["name"] = reply["pedalboard"]?["name"] ?? ""
            return .object(members)
        }
        for name in ["delete_pedalboard", "remove_pedalboard"] {
            router.method(name) { request in try await session.deletePedalboard(try request.pedalboard()) }
        }
        router.method("rename_pedalboard") { request in
            let reference =
                try request.optionalString("id") != nil
                ? try request.pedalboard() : try request.pedalboard(idKey: "id", nameKey: "old_name")
            return try await session.renamePedalboard(reference, to: try request.string(oneOf: ["new_name", "name"]))
        }
        router.method("duplicate_pedalboard") { request in
            try await session.duplicatePedalboard(try request.pedalboard(), as: try request.string("new_name"))
        }
        router.method("factory_copy_pedalboard") { request in
            try await session.copyPedalboard(try request.pedalboard(), title: try request.string("title"))
        }
        router.method("pack_pedalboard_bundle") { request in try await session.packPedalboard(try request.pedalboard())
        }
        router.method("load_pedalboard_web") { request in
            _ = try request.optionalString("filename")
            return try await session.loadPedalboardWeb(base64: try request.string("file_data"))
        }
        router.method("export_pedalboard") { request in
            let hasReference = try request.optionalString("id") != nil || request.optionalString("name") != nil
            return try await session.exportPedalboard(
                hasReference ? try request.pedalboard() : nil,
                filename: try request.string("filename")
            )
        }
        router.method("import_pedalboard") { request in
            try await session.importPedalboard(filename: try request.string("filename"))
        }
        for name in ["reset_pedalboard", "reset_session"] {
            router.method(name) { _ in try await session.reset() }
        }
    }

    static func registerConnectionsAndSnapshots(_ router: inout RPCRouter, _ session: Session) {
        router.method("create_connection") { request in
            let (sourcePlugin, sourcePort) = try request.end("source")
            let (targetPlugin, targetPort) = try request.end("target")
            return try await session.createConnection(
                sourcePlugin: sourcePlugin,
                sourcePort: sourcePort,
                targetPlugin: targetPlugin,
                targetPort: targetPort
            )
        }
        router.method("remove_connection") { request in
            if let id = try request.optionalString("connection_id") {
                try PedalboardStore.validate(id: id)
                return try await session.removeConnection(id: id, ends: nil)
            }
            let (sourcePlugin, sourcePort) = try request.end("source")
            let (targetPlugin, targetPort) = try request.end("target")
            return try await session.removeConnection(
                id: nil,
                ends: (sourcePlugin, sourcePort, targetPlugin, targetPort)
            )
        }
        for name in ["list_connections", "get_connections"] {
            router.method(name) { _ in await session.connectionList() }
        }

        router.method("create_snapshot") { request in
            try await session.createSnapshot(
                name: try request.optionalString("name") ?? request.optionalString("title")
            )
        }
        router.method("save_snapshot") { request in
            if request.params["id"] != nil {
                return try await session.createSnapshot(
                    name: try request.optionalString("name"),
                    overwriting: try Session.snapshotID(request.params["id"])
                )
            }
            return try await session.saveSnapshot(
                name: try request.optionalString("name") ?? request.optionalString("title")
            )
        }
        router.method("save_snapshot_as") { request in
            try await session.createSnapshot(name: try request.string(oneOf: ["title", "name"]))
        }
        for name in ["apply_snapshot", "load_snapshot"] {
            router.method(name) { request in
                try await session.applySnapshot(
                    try Session.snapshotID(request.params["id"] ?? request.params["snapshot_id"])
                )
            }
        }
        router.method("list_snapshots") { _ in await session.snapshotList() }
        router.method("rename_snapshot") { request in
            try await session.renameSnapshot(
                try Session.snapshotID(request.params["id"]),
                to: try request.string(oneOf: ["title", "name"])
            )
        }
        router.method("remove_snapshot") { request in
            try await session.removeSnapshot(try Session.snapshotID(request.params["id"]))
        }
        router.method("get_snapshot_name") { request in
            try await session.snapshotName(try Session.snapshotID(request.params["id"]))
        }
    }

    static func registerSettings(_ router: inout RPCRouter, _ session: Session) {
        router.method("get_banks") { _ in await session.banks() }
        router.method("save_banks") { request in
            guard let banks = request.params["banks"]?.arrayValue else {
                throw RPCError(.invalidParameters, "'banks' must be a list")
            }
            return try await session.saveBanks(banks)
        }
        router.method("get_favorites") { _ in await session.favorites() }
        router.method("add_favorite") { request in try await session.addFavorite(try request.string("uri")) }
        router.method("remove_favorite") { request in try await session.removeFavorite(try request.string("uri")) }
        router.method("get_config") { request in try await session.config(try request.optionalString("key")) }
        router.method("set_config") { request in
            guard let value = request.params["value"] else {
                throw RPCError(.invalidParameters, "Missing required parameter 'value'")
            }
            return try await session.setConfig(try request.string("key"), value)
        }
        router.method("reset_config") { _ in try await session.resetConfig() }
    }

    static func registerRecording(_ router: inout RPCRouter, _ session: Session) {
        router.method("start_recording") { _ in try await session.startRecording() }
        router.method("stop_recording") { _ in try await session.stopRecording() }
        router.method("start_playback") { _ in try await session.startPlayback() }
        router.method("wait_playback") { request in
            let timeout = try request.optionalDouble("timeout")
            if let timeout, !(timeout > 0) {
                throw RPCError(.invalidParameters, "'timeout' is a number of seconds > 0")
            }
            return try await session.waitPlayback(timeout: timeout.map { .seconds($0) })
        }
        router.method("stop_playback") { _ in try await session.stopPlayback() }
        router.method("download_recording") { _ in try await session.downloadRecording() }
        router.method("reset_recording") { _ in try await session.resetRecording() }
    }
}

extension RequestEnvelope {
    /// A wire's end: `<side>_plugin` + `<side>_port`, or `<side>` as `"instance:port"`.
    func end(_ side: String) throws(RPCError) -> (String, String) {
        if let plugin = try optionalString("\(side)_plugin") {
            return (plugin, try string("\(side)_port"))
        }
        let joined = try string(side)
        guard let colon = joined.lastIndex(of: ":") else {
            throw RPCError(.invalidParameters, "'\(side)' is \"instance:port\"")
        }
        return (String(joined[..<colon]), String(joined[joined.index(after: colon)...]))
    }
}
