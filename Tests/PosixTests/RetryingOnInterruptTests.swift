import Foundation
import Posix
import Synchronization
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

/// A real signal, not a simulated one: a read blocked on an empty pipe is interrupted (the handler
/// is installed without SA_RESTART) and goes on waiting until the byte comes.
@Suite(.timeLimit(.minutes(1))) struct RealInterruptTests {
    @Test func blockedReadSurvivesSignals() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        action.sa_flags = 0  // no SA_RESTART: the kernel returns EINTR
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        try #require(sigaction(SIGUSR2, &action, &previous) == 0)
        defer { sigaction(SIGUSR2, &previous, nil) }

        let ends = try makePipe()
        defer {
            close(ends.read)
            close(ends.write)
        }
        let reader = Reader(fd: ends.read)
        let thread = Thread { reader.run() }
        thread.start()

        // Signals until the read has been interrupted at least once, within 5 s.
        let deadline = ContinuousClock.now + .seconds(5)
        while reader.state.withLock({ $0.calls }) < 2 && ContinuousClock.now < deadline {
            if let target = reader.state.withLock({ $0.thread }) { pthread_kill(target, SIGUSR2) }
            usleep(10_000)
        }
        var byte: UInt8 = 9
        #expect(write(ends.write, &byte, 1) == 1)
        #expect(reader.done.wait(timeout: .now() + 5) == .success)
        let state = reader.state.withLock { $0 }
        #expect(state.calls >= 2)
        #expect(state.result == 1)
        #expect(state.byte == 9)
    }

    private final class Reader: Sendable {
        struct State {
            var thread: pthread_t?
            var calls = 0
            var result = 0
            var byte: UInt8 = 0
        }
        let fd: Int32
        let state = Mutex(State())
        let done = DispatchSemaphore(value: 0)

        init(fd: Int32) { self.fd = fd }

        func run() {
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)  // a thread may inherit it blocked
            state.withLock { $0.thread = pthread_self() }
            var byte: UInt8 = 0
            let result = retryingOnInterrupt {
                state.withLock { $0.calls += 1 }
                return read(fd, &byte, 1)
            }
            state.withLock {
                $0.result = result
                $0.byte = byte
            }
            done.signal()
        }
    }
}
