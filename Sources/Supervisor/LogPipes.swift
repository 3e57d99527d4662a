import CLinux
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// The write ends of a child's stdout and stderr pipes; the child gets them, the caller closes them.
public struct LogPipes: Sendable {
    public let standardOutput: Int32
    public let standardError: Int32
}

/// A pipe whose ends close on exec; the child gets its end through the spawn's explicit descriptor
/// actions only.
func makeLogPipe(for path: String) throws(LogError) -> (read: Int32, write: Int32) {
    let ends: (read: Int32, write: Int32)
    do { ends = try makePipe() } catch { throw LogError(path: path, reason: error.description) }
    // 1 MiB instead of 64 KiB: a chatty child writes longer before the reader must run. Refused
    // (over /proc/sys/fs/pipe-max-size), the pipe keeps its default size and works all the same.
    _ = fcntl(ends.write, MARLISE_F_SETPIPE_SZ, Int32(1 << 20))
    return ends
}
