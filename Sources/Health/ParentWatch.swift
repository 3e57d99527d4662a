import CSystemd
import Foundation
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Makes a supervised child end itself when its supervisor dies, even by SIGKILL.
///
/// The supervisor names itself in `MARLISE_SUPERVISOR_PID`; the child watches that process's pidfd,
/// which becomes readable the moment it exits. (`PR_SET_PDEATHSIG` would fire when the supervisor's
/// spawning *thread* ends, which a thread pool does at will.)
public enum ParentWatch {
    /// Starts watching when this process was started by the supervisor named in the environment; does
    /// nothing otherwise (a service run by hand is left alone). `onParentExit` runs on the watch thread.
    public static func start() {
        start(environment: ProcessInfo.processInfo.environment) { exit(0) }
    }

    /// ``start()`` with the environment and the reaction given, for tests.
    public static func start(environment: [String: String], onParentExit: @Sendable @escaping () -> Void) {
        guard let named = environment["MARLISE_SUPERVISOR_PID"].flatMap({ pid_t($0) }), named == getppid() else {
            return
        }
        let fd = pidfd_open(named, 0)
        guard fd >= 0 else { return }
        // Between reading getppid and opening the pidfd the parent may have died already.
        guard getppid() == named else {
            onParentExit()
            return
        }
        Thread {
            var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            // Readable once the parent has exited; a failed poll is taken the same way.
            _ = retryingOnInterrupt { poll(&item, 1, -1) }
            onParentExit()
        }.start()
    }
}
