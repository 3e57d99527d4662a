import Foundation
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// JACK's metadata database, which every JACK server of a user shares: a Berkeley DB environment
/// in `/dev/shm/jack_db-<uid>` whose region files (`__db.001`…) hold its locks.
///
/// A process killed while it held one of those locks (jackd killed with SIGKILL, mid-way through a
/// client's registration) leaves it held for ever, and every jackd started afterwards, under any
/// name, hangs in "JACK server starting" before it serves (seen here in the chaos test: three
/// servers in a row never became ready, until the region files were removed). Berkeley DB's own
/// remedy is to rebuild the environment while nobody uses it; jackd creates it anew when it is missing.
enum JackMetadataLocks {
    /// Removes the environment's region files if nothing can be using them: no live process maps
    /// them and no JACK server runs at all (one starting, whoever started it, may be about to open
    /// them); returns whether it did. Called before a JACK server is started: at that moment a lock
    /// can only be stale.
    static func clearIfUnused(
        folder: String = "/dev/shm/jack_db-\(getuid())",
        serverRunning: () -> Bool = { anyProcess(named: ["jackd", "jackdbus"]) }
    ) -> Bool {
        let regions =
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("__db.") }
        guard !regions.isEmpty, !anyProcessMaps(folder + "/"), !serverRunning() else {
            return false
        }
        for region in regions { unlink("\(folder)/\(region)") }
        return true
    }

    /// Whether any other process maps a file below `prefix` (read from `/proc/<pid>/maps`). This
    /// process is left out: libjack keeps the database mapped for the life of any process that
    /// ever opened a client (the supervisor's JACK probes), though it holds no lock between calls.
    static func anyProcessMaps(_ prefix: String) -> Bool {
        let own = String(getpid())
        return processes.contains { pid in
            pid != own && readTextFile(atPath: "/proc/\(pid)/maps")?.contains(prefix) == true
        }
    }

    /// Whether a process runs under one of `names` (its `/proc/<pid>/comm`); only read, never signalled.
    static func anyProcess(named names: Set<String>) -> Bool {
        processes.contains { pid in
            readTextFile(atPath: "/proc/\(pid)/comm").map { names.contains($0.trimmingCharacters(in: .newlines)) }
                ?? false
        }
    }

    private static var processes: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }
    }
}
