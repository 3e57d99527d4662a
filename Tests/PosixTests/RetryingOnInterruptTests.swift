import Posix
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.timeLimit(.minutes(1))) struct RetryingOnInterruptTests {
    @Test func retriesWhileInterrupted() {
        var calls = 0
        let result = retryingOnInterrupt { () -> Int in
            calls += 1
            guard calls > 3 else {
                errno = EINTR
                return -1
            }
            return 5
        }
        #expect(result == 5)
        #expect(calls == 4)
    }

    @Test func returnsOtherFailuresAtOnceWithErrnoKept() {
        var calls = 0
        let result = retryingOnInterrupt { () -> Int32 in
            calls += 1
            return close(-1)
        }
        #expect(result == -1)
        #expect(errno == EBADF)
        #expect(calls == 1)
    }

    /// A result other than -1 is never a failure, whatever errno holds from before.
    @Test func successIsReturnedEvenWithStaleErrno() {
        errno = EINTR
        var calls = 0
        let result = retryingOnInterrupt { () -> Int in
            calls += 1
            return 0
        }
        #expect(result == 0)
        #expect(calls == 1)
    }

    @Test func errnoTextIsTheCLibrarys() {
        #expect(errnoText(EADDRINUSE) == String(cString: strerror(EADDRINUSE)))
        errno = ENOENT
        #expect(errnoText() == "No such file or directory")
        #expect(PosixError("open /x", code: ENOENT).description == "open /x: No such file or directory")
    }

    @Test func pipeEndsAreCloseOnExecAndOptionallyNonBlocking() throws {
        let ends = try makePipe(nonBlocking: true)
        defer {
            close(ends.read)
            close(ends.write)
        }
        for fd in [ends.read, ends.write] {
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        }
        var byte: UInt8 = 7
        #expect(read(ends.read, &byte, 1) == -1 && errno == EAGAIN)
        byte = 42
        #expect(write(ends.write, &byte, 1) == 1)
        byte = 0
        #expect(retryingOnInterrupt { read(ends.read, &byte, 1) } == 1)
        #expect(byte == 42)

        let blocking = try makePipe()
        defer {
            close(blocking.read)
            close(blocking.write)
        }
        #expect(fcntl(blocking.read, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(blocking.read, F_GETFL) & O_NONBLOCK == 0)
    }
}
