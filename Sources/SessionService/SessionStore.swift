import Foundation
public import Messaging

/// Everything the session keeps on disk under `SESSION_MANAGER_DATA_DIR`:
///
/// - `pedalboards/<store id>.json` — one stable file per pedalboard, with its snapshots;
/// - `session/current.json` — the current pedalboard as it is now, saved or not, for a restart;
/// - `settings/{banks,favorites,config,presets}.json` — what the reference kept nowhere;
/// - `exports/` — the only folder `export_pedalboard` writes to and `import_pedalboard` reads from.
///
/// Every write is durable (``DurableFile``). A file that cannot be read is reported and moved aside
/// before anything replaces it.
public struct SessionStore: Sendable {
    public let dataDirectory: String
    public let pedalboards: PedalboardStore
    public let exportsFolder: String
    let sessionFile: String
    let settingsFolder: String

    public init(dataDirectory: String) throws(RPCError) {
        self.dataDirectory = dataDirectory
        pedalboards = try PedalboardStore(dataDirectory: dataDirectory)
        let base = dataDirectory as NSString
        sessionFile = base.appendingPathComponent("session/current.json")
        settingsFolder = base.appendingPathComponent("settings")
        exportsFolder = base.appendingPathComponent("exports")
        for folder in [(sessionFile as NSString).deletingLastPathComponent, settingsFolder, exportsFolder] {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw RPCError(.storageError, "cannot create \(folder): \(error.localizedDescription)")
            }
        }
    }

    /// The session saved by the last run; a file that cannot be read is moved aside and reported.
    public func loadSession() -> (state: SessionState?, problem: PedalboardStore.Problem?) {
        do {
            guard let document = try DurableFile.read(sessionFile) else { return (nil, nil) }
            return (try SessionState(json: document), nil)
        } catch {
            try? DurableFile.moveAside(sessionFile)
            return (nil, PedalboardStore.Problem(file: "session/current.json", reason: error.message))
        }
    }

    /// Writes the current session; without `synced` it survives a crash but not yet a power cut,
    /// until ``syncSession()``.
    public func saveSession(_ state: SessionState, synced: Bool = true) throws(RPCError) {
        try DurableFile.write(state.json, to: sessionFile, synced: synced)
    }

    /// Makes the last ``saveSession(_:synced:)`` durable.
    public func syncSession() throws(RPCError) {
        try DurableFile.sync(sessionFile)
    }

    /// The settings documents the session keeps for the user.
    public enum Setting: String, Sendable, CaseIterable {
        case banks, favorites, config, presets
    }

    /// A setting's document; `nil` when never written. An unreadable file is moved aside and reported.
    public func load(_ setting: Setting) -> (value: JSONValue?, problem: PedalboardStore.Problem?) {
        let path = self.path(setting)
        do {
            return (try DurableFile.read(path), nil)
        } catch {
            try? DurableFile.moveAside(path)
            return (nil, PedalboardStore.Problem(file: "settings/\(setting.rawValue).json", reason: error.message))
        }
    }

    public func save(_ setting: Setting, _ value: JSONValue) throws(RPCError) {
        try DurableFile.write(value, to: path(setting))
    }

    /// `exports/<name>`, for a plain file name only; anything naming another folder is refused.
    public func exportPath(_ filename: String) throws(RPCError) -> String {
        if filename.contains("/") || filename.hasPrefix(".") {
            throw RPCError(.notSupported, "File access outside the data directory's exports/ folder is not supported")
        }
        var stem = filename
        if stem.hasSuffix(".json") { stem.removeLast(".json".count) }
        do {
            try PedalboardStore.validate(id: stem)
        } catch {
            throw RPCError(
                .invalidParameters,
                "Invalid file name (expected 1-128 of A-Z a-z 0-9 _ -, optionally .json)"
            )
        }
        return (exportsFolder as NSString).appendingPathComponent("\(stem).json")
    }

    private func path(_ setting: Setting) -> String {
        (settingsFolder as NSString).appendingPathComponent("\(setting.rawValue).json")
    }
}
