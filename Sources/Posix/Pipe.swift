import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// A pipe whose ends are close-on-exec from the start (`pipe2`), so no child started meanwhile by
/// another thread inherits them; with `nonBlocking`, neither end ever blocks.
public func makePipe(nonBlocking: Bool = false) throws(PosixError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [-1, -1]
    let flags = O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)
    guard pipe2(&fds, flags) == 0 else { throw PosixError("pipe") }
    return (fds[0], fds[1])
}
