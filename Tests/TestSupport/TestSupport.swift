import Dispatch
public import Foundation
public import Messaging

/// Runs blocking code on a thread of its own, so tests never block Swift's cooperative pool (which
/// the servers under test need for their handlers).
public func onThread<T: Sendable>(_ body: @Sendable @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// A raw ZeroMQ socket for talking to a server exactly as a foreign client would, frame by frame.
public final class RawPeer: @unchecked Sendable {  // `socket` is touched only on `queue`, a serial queue.
    private let queue = DispatchQueue(label: "raw-peer")
    private let socket: ZMQSocket

    public init(_ type: SocketType, connectTo endpoint: String) throws {
        socket = try ZMQSocket(type)
        try socket.connect(endpoint)
    }

    public func send(_ frames: [Data]) async throws {
        try await run { socket in try socket.send(frames) }
    }

    /// The next message, or `nil` if none arrives within `timeout`.
    public func receive(timeout: Duration = .seconds(10)) async throws -> [Data]? {
        try await run { socket in
            try socket.set(.receiveTimeout(timeout))
            return try socket.receive()
        }
    }

    private func run<T: Sendable>(_ body: @Sendable @escaping (ZMQSocket) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(self.socket) }) }
        }
    }

    public func close() async {
        await withCheckedContinuation { continuation in
            queue.async {
                self.socket.close()
                continuation.resume()
            }
        }
    }
}

extension Data {
    /// The bytes of a string, for writing frames in tests.
    public init(text: String) { self.init(text.utf8) }
}

extension JSONValue {
    /// Parses a reply frame a test received; fails the test loudly through a thrown error.
    public static func parsed(_ frame: Data?) throws -> JSONValue {
        guard let frame else { throw TestFailure("no frame") }
        return try JSONValue(parsing: frame)
    }
}

/// A failed expectation inside a helper.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Retries `attempt` until it succeeds or `deadline` passes, for conditions nothing announces
/// (a port libzmq releases on its own I/O thread). Rethrows the last error.
public func eventually<T>(
    within deadline: Duration = .seconds(10), _ attempt: () async throws -> T
) async throws -> T {
    let clock = ContinuousClock()
    let end = clock.now + deadline
    while true {
        do {
            return try await attempt()
        } catch {
            if clock.now >= end { throw error }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
