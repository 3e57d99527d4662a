#if canImport(Glibc)
import Glibc
#endif

/// A system call failed: which one, on what, and the `errno` it left.
public struct PosixError: Error, CustomStringConvertible, Sendable {
    /// What was attempted, e.g. `cannot listen on 127.0.0.1:80`.
    public var operation: String
    public var code: Int32

    /// Reads `errno` now, so make it the first call after the failing one.
    public init(_ operation: String) { self.init(operation, code: errno) }

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(errnoText(code))" }
}
