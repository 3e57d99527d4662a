public import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A value behind a `Mutex`, whose hand-overs ThreadSanitizer can follow.
///
/// On Linux a contended `Synchronization.Mutex` is passed from one holder to the next by a futex
/// inside the standard library, which is not instrumented: ThreadSanitizer sees no order between
/// the two holders and reports their accesses as a race. This box tells it, with `__tsan_acquire`
/// after taking the lock and `__tsan_release` before giving it back. Outside ThreadSanitizer those
/// two hooks are absent and the box is a `Mutex` and one branch.
public final class Locked<Value: ~Copyable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: consuming sending Value) { mutex = Mutex(value) }

    /// Runs `body` with the value, holding the lock.
    public func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            let address = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
            threadSanitizer.acquire?(address)
            defer { threadSanitizer.release?(address) }
            return try body(&value)
        }
    }
}

/// ThreadSanitizer's annotation entry points when the process runs under it, found once.
private let threadSanitizer = ThreadSanitizerHooks()

private struct ThreadSanitizerHooks: Sendable {
    typealias Hook = @convention(c) (UnsafeRawPointer?) -> Void
    let acquire: Hook?
    let release: Hook?

    init() {
        // The runtime is linked into the executable when built with `-sanitize=thread`; `nil` is
        // RTLD_DEFAULT, the global scope.
        acquire = dlsym(nil, "__tsan_acquire").map { unsafeBitCast($0, to: Hook.self) }
        release = dlsym(nil, "__tsan_release").map { unsafeBitCast($0, to: Hook.self) }
    }
}
