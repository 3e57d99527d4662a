import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// The write ends of a child's stdout and stderr pipes; the child gets them, the caller closes them.
public struct LogPipes: Sendable {
    public let standardOutput: Int32
    public let standardError: Int32
}

/// A pipe whose ends close on exec (Glibc's Swift module has no `pipe2`); the child gets its end
/// through the spawn's explicit descriptor actions only.
func makePipe(_ ends: inout [Int32]) -> Bool {
    guard pipe(&ends) == 0 else { return false }
    for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    // 1 MiB instead of 64 KiB: a chatty child writes longer before the reader must run.
    _ = fcntl(ends[1], MARLISE_F_SETPIPE_SZ, Int32(1 << 20))
    return true
}
