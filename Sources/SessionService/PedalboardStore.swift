import Foundation
public import LV2
public import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Pedalboards on disk, in `<data>/pedalboards/`, in two formats side by side:
///
/// - MOD bundles, `<name>.pedalboard/` (``ModBundle``), as mod-ui and MOD devices keep them; their
///   id is the folder's name. New boards are saved this way.
/// - Marlise's v1 JSON files, `<id>.json`, one stable file per board; they list, load and save in
///   place as before.
///
/// Every write is durable and atomic: a file is written to a temporary name, fsynced and renamed
/// over the old one; a bundle is written whole to a hidden folder that then takes the old one's
/// place (``DurableFile/writeFolder(_:to:)``). A power cut at any instant leaves the old board or
/// the new one, whole. Ids never become paths unchecked.
public struct PedalboardStore: Sendable {
    /// `<data>/pedalboards`.
    public let folder: String

    /// A file that could not be read as a pedalboard: skipped and reported, never overwritten.
    public struct Problem: Error, Sendable, Equatable {
        public var file: String
        public var reason: String
    }

    /// How a stored board is kept, told by its id.
    public enum Format: Sendable { case json, bundle }

    /// Opens (creating if needed) the store under `dataDirectory`, and removes what interrupted
    /// bundle saves left (hidden folders that never listed).
    public init(dataDirectory: String) throws(RPCError) {
        folder = (dataDirectory as NSString).appendingPathComponent("pedalboards")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw RPCError(.storageError, "cannot create \(folder): \(error.localizedDescription)")
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        where DurableFile.isLeftover(name) {
            DurableFile.removeTree((folder as NSString).appendingPathComponent(name))
        }
    }

    /// The format of the board stored as `id`: `<name>.pedalboard` is a bundle (1 to 255 bytes, no
    /// slash, no control character, not hidden), any other a JSON id (``validate(id:)``).
    public static func format(of id: String) throws(RPCError) -> Format {
        guard id.hasSuffix(ModBundle.suffix) else {
            try validate(id: id)
            return .json
        }
        guard (1...255).contains(id.utf8.count), id.utf8.count > ModBundle.suffix.utf8.count, !id.hasPrefix("."),
            !id.unicodeScalars.contains(where: { $0 == "/" || $0.value < 0x20 || $0.value == 0x7F })
        else { throw RPCError(.invalidParameters, "Invalid pedalboard bundle name '\(id)'") }
        return .bundle
    }

    /// A bundle id for a new board called `title`, as mod-ui names its folders
    /// (`<symbol>.pedalboard`, `<symbol>-<n>.pedalboard` when taken), free in this store.
    public func newBundleID(title: String) -> String {
        let symbol = ModBundle.symbol(for: title)
        var id = symbol + ModBundle.suffix
        while FileManager.default.fileExists(atPath: path(id)) {
            id = "\(symbol)-\(Int.random(in: 1...99999))\(ModBundle.suffix)"
        }
        return id
    }

    /// Where the board stored as `id` is: its file or its bundle folder.
    public func path(_ id: String) -> String {
        (folder as NSString).appendingPathComponent(id.hasSuffix(ModBundle.suffix) ? id : "\(id).json")
    }

    /// Ids are `[A-Za-z0-9_-]`, 1 to 128 of them: never `..`, a slash, NUL or an absolute path.
    public static func validate(id: String) throws(RPCError) {
        guard (1...128).contains(id.utf8.count),
            id.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else {
            throw RPCError(.invalidParameters, "Invalid pedalboard id (expected 1-128 of A-Z a-z 0-9 _ -)")
        }
    }

    /// Writes `document` as pedalboard `id`, durably; a bundle takes its port lists from
    /// `catalogue`. A corrupt file under a JSON id is moved aside (`<id>.json.corrupt-<time>`), not
    /// overwritten.
    public func save(id: String, document: JSONValue, catalogue: PluginCatalogue) throws(RPCError) {
        guard case .object = document else { throw RPCError(.invalidParameters, "A pedalboard is a JSON object") }
        if try Self.format(of: id) == .bundle {
            let board = try Pedalboard(json: document, fallbackID: id)
            let symbol = ModBundle.symbol(for: board.name)
            try DurableFile.writeFolder(ModBundle.files(for: board, symbol: symbol, catalogue: catalogue), to: path(id))
            return
        }
        let path = self.path(id)
        if FileManager.default.fileExists(atPath: path), case .failure = read(path) {
            try DurableFile.moveAside(path)
        }
        try DurableFile.write(document, to: path)
    }

    /// The pedalboard stored as `id`.
    public func load(id: String) throws(RPCError) -> JSONValue {
        let format = try Self.format(of: id)
        let path = self.path(id)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RPCError(.notFound, "Pedalboard '\(id)' not found")
        }
        if format == .bundle { return try ModBundle.read(path, id: id).json }
        switch read(path) {
        case .success(let document): return document
        case .failure(let problem):
            throw RPCError(.storageError, "Pedalboard '\(id)' cannot be read: \(problem.reason)")
        }
    }

    /// Removes pedalboard `id`; `false` when there was none.
    @discardableResult
    public func delete(id: String) throws(RPCError) -> Bool {
        if try Self.format(of: id) == .bundle {
            // Hidden first, in one step, so a cut never leaves a half-deleted bundle that lists.
            let path = self.path(id)
            let hidden = (folder as NSString).appendingPathComponent(".\(id).staging-deleted-\(getpid())")
            guard rename(path, hidden) == 0 else {
                if errno == ENOENT { return false }
                throw RPCError(
                    .storageError,
                    "cannot delete pedalboard '\(id)': \(errnoText())",
                    underlying: POSIXErrorCode(rawValue: errno).map { POSIXError($0) }
                )
            }
            DurableFile.syncFolder(folder)
            DurableFile.removeTree(hidden)
            return true
        }
        guard unlink(path(id)) == 0 else {
            if errno == ENOENT { return false }
            throw RPCError(
                .storageError,
                "cannot delete pedalboard '\(id)': \(errnoText())",
                underlying: POSIXErrorCode(rawValue: errno).map { POSIXError($0) }
            )
        }
        DurableFile.syncFolder(folder)
        return true
    }

    /// Every readable pedalboard by id (bundles first), and every file that is not one (corrupt,
    /// foreign, not UTF-8, a wrong name). Unfinished temporary files and folders of an interrupted
    /// save are hidden: never pedalboards.
    public func list() -> (pedalboards: [(id: String, document: JSONValue)], problems: [Problem]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var pedalboards: [(id: String, document: JSONValue)] = []
        var problems: [Problem] = []
        for name in names where !name.hasPrefix(".") && name.hasSuffix(ModBundle.suffix) {
            guard (try? Self.format(of: name)) == .bundle else {
                problems.append(Problem(file: name, reason: "not a valid pedalboard bundle name"))
                continue
            }
            do {
                pedalboards.append((name, try ModBundle.read(path(name), id: name).json))
            } catch {
                problems.append(Problem(file: name, reason: error.message))
            }
        }
        for name in names where !name.hasPrefix(".") && name.hasSuffix(".json") {
            let id = String(name.dropLast(".json".count))
            guard (try? Self.validate(id: id)) != nil else {
                problems.append(Problem(file: name, reason: "not a valid pedalboard id"))
                continue
            }
            switch read(path(id)) {
            case .success(let document): pedalboards.append((id, document))
            case .failure(let problem): problems.append(problem)
            }
        }
        return (pedalboards, problems)
    }

    private func read(_ path: String) -> Result<JSONValue, Problem> {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Problem(file: name, reason: "cannot be read"))
        }
        let document: JSONValue
        do {
            document = try JSONValue(parsing: data)
        } catch {
            return .failure(Problem(file: name, reason: "not JSON: \(error)"))
        }
        guard case .object = document, document["name"]?.stringValue != nil else {
            return .failure(Problem(file: name, reason: "not a pedalboard (a JSON object with a name)"))
        }
        return .success(document)
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
