import Foundation
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor that was killed outright left running, found again by the next one.
///
/// Every child is written down (PID and kernel start time) as it starts; at the next start each one
/// still alive with the same start time, and so the very same process, is stopped with its group.
/// Nothing is ever matched by name.
enum Leftovers {
    static func file(in directory: String) -> String {
        (directory as NSString).appendingPathComponent("supervisor.children")
    }

    static func remember(_ child: ChildProcess, name: String, in directory: String) {
        guard let started = startTime(of: child.pid) else { return }
        let line = "\(child.pid) \(started) \(name)\n"
        let fd = open(file(in: directory), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    /// Stops every remembered process that still runs, then forgets them all.
    static func clean(in directory: String, record: @Sendable (String) async -> Void) async {
        let path = file(in: directory)
        guard let text = readTextFile(atPath: path) else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, let pid = Int32(fields[0]), let started = UInt64(fields[1]),
                startTime(of: pid) == started
            else { continue }
            await record("found \(fields[2]) (pid \(pid)) left by an earlier supervisor; stopping it")
            kill(-pid, SIGTERM)
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(3)
            while startTime(of: pid) == started, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if startTime(of: pid) == started {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
            }
        }
        unlink(path)
    }

    /// After a clean stop nothing is left to find.
    static func forget(in directory: String) { unlink(file(in: directory)) }

    /// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = readTextFile(atPath: "/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command come state (field 3) onwards; start time is field 22.
        guard fields.count > 19, fields[0] != "Z" else { return nil }
        return UInt64(fields[19])
    }
}
