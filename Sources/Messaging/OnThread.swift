import Foundation

/// Runs blocking work (a lilv scan, a blocking socket, a wait for a process) on a thread of its
/// own and awaits its result, so it never holds one of the few threads of Swift's cooperative pool,
/// which every task (and every server's handlers) share. The one such helper in the package.
///
/// Cancelling the awaiting task does not end the wait: blocking work cannot be interrupted, and its
/// result is what the caller is waiting for (race it against a timeout with a ``OneShot``).
/// `name` names the thread, for debuggers and `top -H`.
public func onThread<Value: Sendable, Failure: Error>(
    named name: String? = nil,
    _ body: @Sendable @escaping () throws(Failure) -> Value
) async throws(Failure) -> Value {
    let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: Result { () throws(Failure) in try body() }) }
        if let name { thread.name = name }
        thread.start()
    }
    return try result.get()
}
