import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Runs a system call again for as long as a signal interrupts it (`-1` with `EINTR`), the one policy
/// for every blocking call: a signal handler is never a reason to fail. Any other result, failures
/// included, is returned as it is, with `errno` still set.
///
///     let count = retryingOnInterrupt { read(fd, buffer, size) }
public func retryingOnInterrupt<Result: FixedWidthInteger & SignedInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result != -1 || errno != Errno.interrupted.rawValue { return result }
    }
}
