import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// What `errno` says now, as the C library words it ("Address already in use").
///
/// Read it before any other call that may change `errno`, `close` included.
public func errnoText() -> String { errnoText(errno) }

/// What the error number `code` says.
public func errnoText(_ code: Int32) -> String { Errno(rawValue: code).description }
