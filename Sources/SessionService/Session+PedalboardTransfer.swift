import Foundation
public import Messaging

/// Pedalboards in and out as one archive, and copies by bundle path: what mod-ui's pack, upload
/// and factory-copy do.
extension Session {
    /// The board as a `.tar.gz` of its MOD bundle, base64 in `file_data` (JSON carries no bytes). A
    /// v1 JSON board is packed as the bundle it would be saved as.
    public func packPedalboard(_ reference: Reference) throws(RPCError) -> JSONValue {
        let (id, document) = try stored(reference)
        let name: String
        let files: [BundleArchive.File]
        if try PedalboardStore.format(of: id) == .bundle {
            name = id
            files = try bundleFiles(store.pedalboards.path(id))
        } else {
            let board = try Pedalboard(json: document, fallbackID: id)
            let symbol = ModBundle.symbol(for: board.name)
            name = symbol + ModBundle.suffix
            files = ModBundle.files(
                for: board,
                symbol: symbol,
                catalogue: catalogue.catalogue(uris: board.plugins.map(\.uri))
            )
        }
        let archive = try BundleArchive.pack(name: name, files: files)
        return [
            "file_data": .string(Data(archive).base64EncodedString()), "encoding": "base64",
            "filename": .string("\(name).tar.gz"), "size": .int(archive.count),
            "bundlepath": .string(bundlePath(id: id)),
        ]
    }

    /// The regular files directly inside a bundle folder (hidden ones and links left out).
    private func bundleFiles(_ folder: String) throws(RPCError) -> [BundleArchive.File] {
        var files: [BundleArchive.File] = []
        var total = 0
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            total += data.count
            guard total <= BundleArchive.maximumBytes else {
                throw RPCError(.invalidParameters, "The bundle is larger than \(BundleArchive.maximumBytes >> 20) MiB")
            }
            files.append((name, Array(data)))
        }
        return files
    }

    /// Stores an uploaded archive (base64 `.tar.gz` of one `<name>.pedalboard/`) as a board of its
    /// own — under its folder's name, or a free one like it — and loads it. An archive that is not a
    /// readable pedalboard is refused and leaves nothing behind; one whose plugins are missing here
    /// stays stored (listed as broken) and the load's error says which.
    public func loadPedalboardWeb(base64: String) async throws -> JSONValue {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) else {
            throw RPCError(.invalidParameters, "file_data must be the archive in base64")
        }
        let (folder, files) = try BundleArchive.unpack(Array(data))
        let id =
            FileManager.default.fileExists(atPath: store.pedalboards.path(folder))
            ? store.pedalboards.newBundleID(title: String(folder.dropLast(ModBundle.suffix.count))) : folder
        let path = store.pedalboards.path(id)
        try DurableFile.writeFolder(files, to: path)
        let board: Pedalboard
        do {
            board = try ModBundle.read(path, id: id)
        } catch {
            _ = try? store.pedalboards.delete(id: id)
            throw error
        }
        publish(
            "pedalboard_created",
            ["id": .string(id), "name": .string(board.name), "description": .string(board.description)]
        )
        let loaded = try await loadPedalboard(.id(id))
        guard case .object(var members) = loaded else { return loaded }
        members["name"] = .string(board.name)
        members["bundlepath"] = .string(path)
        return .object(members)
    }

    /// A copy of a board under a new title, as a bundle of its own (mod-ui's factory copy): its
    /// bundle path, plugins and wires in the shape `get_pedalboard_info` gives them.
    public func copyPedalboard(_ reference: Reference, title: String) throws(RPCError) -> JSONValue {
        let copy = try duplicatePedalboard(reference, as: title)
        guard let id = copy["pedalboard_id"]?.stringValue else { return copy }
        let info = try pedalboardInfo(.id(id))
        return [
            "id": .string(id), "bundlepath": .string(bundlePath(id: id)), "title": .string(title),
            "plugins": info["plugins"] ?? [], "connections": info["connections"] ?? [],
        ]
    }
}
