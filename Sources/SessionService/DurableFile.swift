import CLinux
import Foundation
import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Whole-file writes that survive a power cut at any instant: temp file → write → fsync → rename →
/// fsync of the folder. A reader sees the old file or the new one, never a mix or a truncation.
enum DurableFile {
    /// Writes `bytes` to `path` (in an existing folder) atomically; with `synced`, durably too.
    ///
    /// Without `synced` the new file survives the death of this process at any instant (the kernel
    /// holds it), not yet a power cut: ``sync(_:)`` finishes the job later.
    static func write(_ bytes: [UInt8], to path: String, synced: Bool = true) throws(RPCError) {
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder as NSString).appendingPathComponent(
            ".\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        )
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RPCError(.storageError, "cannot create \(temporary): \(errnoText())") }
        var offset = 0
        while offset < bytes.count {
            let written = retryingOnInterrupt {
                bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            }
            guard written > 0 else {
                let reason = errnoText()
                close(fd)
                unlink(temporary)
                throw RPCError(.storageError, "cannot write \(temporary): \(reason)")
            }
            offset += written
        }
        guard !synced || fsync(fd) == 0 else {
            let reason = errnoText()
            close(fd)
            unlink(temporary)
            throw RPCError(.storageError, "cannot sync \(temporary): \(reason)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw RPCError(.storageError, "cannot replace \(path): \(reason)")
        }
        if synced { syncFolder(folder) }
    }

    /// Writes a JSON document, keys sorted so a person can diff it, with a final newline.
    static func write(_ document: JSONValue, to path: String, synced: Bool = true) throws(RPCError) {
        var bytes = Array(document.serialized(sortedKeys: true))
        bytes.append(0x0A)
        try write(bytes, to: path, synced: synced)
    }

    /// Writes a whole folder of `files` at `path` so that a power cut at any instant leaves the old
    /// folder or the new one, each complete: the files go into a hidden sibling folder, every one
    /// fsynced, then that folder takes the old one's place in one step (Linux's RENAME_EXCHANGE)
    /// and the old contents are removed. Hidden leftovers of a cut are ``isLeftover(_:)``.
    static func writeFolder(_ files: [(name: String, bytes: [UInt8])], to path: String) throws(RPCError) {
        let parent = (path as NSString).deletingLastPathComponent
        let staging = (parent as NSString).appendingPathComponent(
            ".\((path as NSString).lastPathComponent)\(leftoverMark)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        )
        guard mkdir(staging, 0o755) == 0 else {
            throw RPCError(.storageError, "cannot create \(staging): \(errnoText())")
        }
        do throws(RPCError) {
            for file in files {
                try write(file.bytes, to: (staging as NSString).appendingPathComponent(file.name))
            }
            syncFolder(staging)
            if rename(staging, path) != 0 {
                guard errno == EEXIST || errno == ENOTEMPTY, marlise_exchange(staging, path) == 0 else {
                    throw RPCError(.storageError, "cannot replace \(path): \(errnoText())")
                }
            }
            syncFolder(parent)
        } catch {
            removeTree(staging)
            throw error
        }
        removeTree(staging)
    }

    /// A hidden folder or file that an interrupted ``writeFolder(_:to:)`` left behind.
    static func isLeftover(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(leftoverMark) }

    private static let leftoverMark = ".staging-"

    /// Removes `path` and all below it; never follows a link out of it.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Makes whatever file is now at `path`, and its name in the folder, durable.
    static func sync(_ path: String) throws(RPCError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RPCError(.storageError, "cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw RPCError(.storageError, "cannot sync \(path): \(errnoText())") }
        syncFolder((path as NSString).deletingLastPathComponent)
    }

    /// Reads a JSON document; `nil` when there is no file, an error when it is unreadable or not JSON.
    static func read(_ path: String) throws(RPCError) -> JSONValue? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RPCError(.storageError, "\(path) cannot be read")
        }
        do {
            return try JSONValue(parsing: data)
        } catch {
            throw RPCError(.storageError, "\(path) is not JSON: \(error)")
        }
    }

    /// Moves an unreadable file aside (`<path>.corrupt-<time>`) so nothing overwrites it.
    static func moveAside(_ path: String) throws(RPCError) {
        let aside = "\(path).corrupt-\(Int(Date().timeIntervalSince1970))"
        guard rename(path, aside) == 0 else {
            throw RPCError(.storageError, "cannot move \(path) aside: \(errnoText())")
        }
    }

    /// Makes a rename or unlink in `folder` itself durable.
    static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        // Best effort: a folder that cannot be synced now is synced by the kernel's own writeback.
        _ = fsync(fd)
        close(fd)
    }
}
