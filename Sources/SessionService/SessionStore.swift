import Foundation
public import Messaging

/// Everything the session keeps on disk under `SESSION_MANAGER_DATA_DIR`:
///
/// - `pedalboards/` — the pedalboards (``PedalboardStore``): MOD bundles and v1 JSON files;
/// - `session/current.json` — the current pedalboard as it is now, saved or not, for a restart,
///   with `session/current.journal` (``SessionJournal``), the knob turns made since;
/// - `settings/{banks,favorites,config,presets}.json` — what the reference kept nowhere;
/// - `exports/` — the only folder `export_pedalboard` writes to and `import_pedalboard` reads from;
/// - `user-files/` — the files plugins load, one folder per kind (``UserFiles``).
///
/// Every write is durable (``DurableFile``). A file that cannot be read is reported and moved aside
/// before anything replaces it.
public struct SessionStore: Sendable {
    public let dataDirectory: String
    public let pedalboards: PedalboardStore
    public let exportsFolder: String
    public let userFiles: UserFiles
    let sessionFile: String
    let journalFile: String
    let settingsFolder: String

    public init(dataDirectory: String) throws(RPCError) {
        self.dataDirectory = dataDirectory
        pedalboards = try PedalboardStore(dataDirectory: dataDirectory)
        let base = dataDirectory as NSString
        sessionFile = base.appendingPathComponent("session/current.json")
        journalFile = base.appendingPathComponent("session/current.journal")
        settingsFolder = base.appendingPathComponent("settings")
        exportsFolder = base.appendingPathComponent("exports")
        userFiles = UserFiles(dataDirectory: dataDirectory)
        for folder in [(sessionFile as NSString).deletingLastPathComponent, settingsFolder, exportsFolder] {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw RPCError(.storageError, "cannot create \(folder): \(error.localizedDescription)")
            }
        }
    }

    /// The session saved by the last run, with its journaled knob turns applied, and the epoch the
    /// journal's lines belong to. A file that cannot be read is moved aside and reported.
    public func loadSession() -> (state: SessionState?, epoch: UInt64, problem: PedalboardStore.Problem?) {
        do {
            guard let document = try DurableFile.read(sessionFile) else { return (nil, 0, nil) }
            var state = try SessionState(json: document)
            let epoch = UInt64(truncatingIfNeeded: document["journal_epoch"]?.intValue ?? 0)
            SessionJournal.replay(journalFile, epoch: epoch, into: &state)
            return (state, epoch, nil)
        } catch {
            try? DurableFile.moveAside(sessionFile)
            return (nil, 0, PedalboardStore.Problem(file: "session/current.json", reason: error.message))
        }
    }

    /// Writes the current session as of journal `epoch`; without `synced` it survives a crash but
    /// not yet a power cut, until ``syncSession()``.
    public func saveSession(_ state: SessionState, epoch: UInt64 = 0, synced: Bool = true) throws(RPCError) {
        guard case .object(var members) = state.json else { return }
        members["journal_epoch"] = .int(Int(truncatingIfNeeded: epoch))
        try DurableFile.write(.object(members), to: sessionFile, synced: synced)
    }

    /// Makes the last ``saveSession(_:epoch:synced:)`` durable.
    public func syncSession() throws(RPCError) {
        try DurableFile.sync(sessionFile)
    }

    /// The settings documents the session keeps for the user.
    public enum Setting: String, Sendable, CaseIterable {
        case banks, favorites, config, presets, transport, midi
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
