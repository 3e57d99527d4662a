import Foundation
import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// `session/current.journal`: the knob turns made since `current.json` was last written, one JSON
/// line each, appended before the reply goes out.
///
/// Rewriting `current.json` on every knob turn cost ~1.5 ms on ext4 (a rename over a file starts
/// its write-back); an append costs a few microseconds and survives the death of the process just
/// as well. Each line carries the epoch of the `current.json` it follows, so lines left behind by a
/// crash between a rewrite and the journal's truncation are recognised as older and skipped.
final class SessionJournal: @unchecked Sendable {  // used only under SessionPersistence's lock
    let path: String
    private var fd: Int32 = -1

    init(path: String) {
        self.path = path
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Appends one knob turn in one write.
    func append(epoch: UInt64, instanceID: String, symbol: String, value: Double) throws(RPCError) {
        let line: JSONValue = [
            "epoch": .int(Int(truncatingIfNeeded: epoch)), "instance_id": .string(instanceID),
            "parameter": .string(symbol), "value": .double(value),
        ]
        var bytes = Array(line.serialized())
        bytes.append(0x0A)
        if fd < 0 {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RPCError(.storageError, "cannot open \(path): \(errnoText())") }
        }
        let written = retryingOnInterrupt { bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        guard written == bytes.count else {
            throw RPCError(.storageError, "cannot append to \(path): \(errnoText())")
        }
    }

    /// Empties the journal: everything in it is now in `current.json`.
    func reset() {
        if fd >= 0 {
            _ = ftruncate(fd, 0)
        } else {
            _ = truncate(path, 0)
        }
    }

    /// Applies to `state` the lines of `epoch`, in order; other epochs and lines that do not parse (a
    /// power cut mid-line) are skipped.
    static func replay(_ path: String, epoch: UInt64, into state: inout SessionState) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        for line in data.split(separator: 0x0A) {
            guard let entry = try? JSONValue(parsing: Data(line)),
                entry["epoch"]?.intValue == Int(truncatingIfNeeded: epoch),
                let instanceID = entry["instance_id"]?.stringValue,
                let symbol = entry["parameter"]?.stringValue,
                let value = entry["value"]?.doubleValue
            else { continue }
            state.setParameter(instanceID, symbol, value)
        }
    }
}
