import Foundation
public import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// Pedalboards on disk, in the reference's layout: `<data>/pedalboards/<id>.json`, one stable file
/// per pedalboard (the reference forked a new file on every save).
///
/// Every write is durable and atomic: a temporary file is written, fsynced and renamed over the old
/// one, then the folder is fsynced, so a power cut at any instant leaves either the old or the new
/// file, whole. Ids never become paths unchecked.
public struct PedalboardStore: Sendable {
    /// `<data>/pedalboards`.
    public let folder: String

    /// A file that could not be read as a pedalboard: skipped and reported, never overwritten.
    public struct Problem: Error, Sendable, Equatable {
        public var file: String
        public var reason: String
    }

    /// Opens (creating if needed) the store under `dataDirectory`.
    public init(dataDirectory: String) throws(RPCError) {
        folder = (dataDirectory as NSString).appendingPathComponent("pedalboards")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw RPCError(.storageError, "cannot create \(folder): \(error.localizedDescription)")
        }
    }

    /// Ids are `[A-Za-z0-9_-]`, 1 to 128 of them: never `..`, a slash, NUL or an absolute path.
    public static func validate(id: String) throws(RPCError) {
        guard (1...128).contains(id.utf8.count),
            id.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else {
            throw RPCError(.invalidParameters, "Invalid pedalboard id (expected 1-128 of A-Z a-z 0-9 _ -)")
        }
    }

    /// Writes `document` as pedalboard `id`, durably. A corrupt file under that id is moved aside
    /// (`<id>.json.corrupt-<time>`), not overwritten.
    public func save(id: String, document: JSONValue) throws(RPCError) {
        try Self.validate(id: id)
        guard case .object = document else { throw RPCError(.invalidParameters, "A pedalboard is a JSON object") }
        let path = self.path(id)
        if FileManager.default.fileExists(atPath: path), case .failure = read(path) {
            try DurableFile.moveAside(path)
        }
        try DurableFile.write(document, to: path)
    }

    /// The pedalboard stored as `id`.
    public func load(id: String) throws(RPCError) -> JSONValue {
        try Self.validate(id: id)
        let path = self.path(id)
        guard FileManager.default.fileExists(atPath: path) else {
            throw RPCError(.notFound, "Pedalboard '\(id)' not found")
        }
        switch read(path) {
        case .success(let document): return document
        case .failure(let problem):
            throw RPCError(.storageError, "Pedalboard '\(id)' cannot be read: \(problem.reason)")
        }
    }

    /// Removes pedalboard `id`; `false` when there was none.
    @discardableResult
    public func delete(id: String) throws(RPCError) -> Bool {
        try Self.validate(id: id)
        guard unlink(path(id)) == 0 else {
            if errno == ENOENT { return false }
            throw RPCError(.storageError, "cannot delete pedalboard '\(id)': \(errnoText())")
        }
        DurableFile.syncFolder(folder)
        return true
    }

    /// Every readable pedalboard by id, and every file that is not one (corrupt, foreign, not UTF-8,
    /// a wrong name). Unfinished temporary files of an interrupted save are not pedalboards.
    public func list() -> (pedalboards: [(id: String, document: JSONValue)], problems: [Problem]) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var pedalboards: [(id: String, document: JSONValue)] = []
        var problems: [Problem] = []
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

    private func path(_ id: String) -> String { (folder as NSString).appendingPathComponent("\(id).json") }

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

private func errnoText() -> String { DurableFile.errnoText() }
