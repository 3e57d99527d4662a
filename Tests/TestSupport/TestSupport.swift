import Dispatch
public import Foundation
public import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// A raw ZeroMQ socket for talking to a server exactly as a foreign client would, frame by frame.
public final class RawPeer: @unchecked Sendable {  // `socket` is touched only on `queue`, a serial queue.
    private let queue = DispatchQueue(label: "raw-peer")
    private let socket: ZMQSocket

    /// The endpoint bound by ``init(_:bindTo:)``, wildcard port resolved.
    public let endpoint: String

    public init(_ type: SocketType, connectTo endpoint: String) throws {
        socket = try ZMQSocket(type)
        try socket.connect(endpoint)
        self.endpoint = endpoint
    }

    public init(_ type: SocketType, bindTo endpoint: String) throws {
        socket = try ZMQSocket(type)
        try socket.bind(endpoint)
        self.endpoint = try socket.lastEndpoint()
    }

    public func send(_ frames: [Data]) async throws {
        _ = try await run { socket in try socket.send(frames) }
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

/// Retries `attempt` until it succeeds or `deadline` passes, for conditions nothing announces (a
/// port libzmq releases on its own I/O thread, another process's state); what something in this
/// process announces is awaited with a ``ChangeSignal`` instead. Rethrows the last error.
public func eventually<T>(
    within deadline: Duration = .seconds(10),
    _ attempt: () async throws -> T
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

/// A process a test started, stopped by its PID only.
///
/// Started from a thread of its own with an empty signal mask, so the child does not inherit the
/// blocked SIGTERM of a pool thread (swift-corelibs-foundation#4772).
public final class TestProcess: @unchecked Sendable {  // `process` is set once in init, then only read.
    public let process: Process
    public var pid: Int32 { process.processIdentifier }

    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        log: URL? = nil
    )
        async throws
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
        }
        try await onThread {
            var empty = sigset_t()
            var previous = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, &previous)
            defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
            try process.run()
        }
        self.process = process
    }

    /// A test that failed before stopping its process still leaves nothing running: SIGTERM, which a
    /// supervisor under test answers by stopping its own children.
    deinit {
        if process.isRunning { kill(pid, SIGTERM) }
    }

    /// Sends `signal` to this process (and only this one; 0 sends nothing) and waits for it to exit.
    public func stop(_ signal: Int32 = SIGKILL) async throws {
        if process.isRunning && signal != 0 { kill(pid, signal) }
        await onThread { self.process.waitUntilExit() }
    }
}

/// Where SwiftPM put the built executables: beside the test bundle.
public let productsDirectory: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    .deletingLastPathComponent()

/// A built executable of this package, e.g. `marlise-session`.
public func product(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it).
public func freePort() throws -> Int {
    let socket = try ZMQSocket(.rep)
    try socket.bind("tcp://127.0.0.1:*")
    let endpoint = try socket.lastEndpoint()
    socket.close()
    guard let port = endpoint.split(separator: ":").last.flatMap({ Int($0) }) else {
        throw TestFailure("no port in \(endpoint)")
    }
    return port
}

/// One request over a plain TCP connection; returns the status code and the body.
public func httpRequest(_ method: String, _ path: String, port: UInt16) async throws -> (Int, String) {
    try await onThread {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TestFailure("connect failed") }
        let text = Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        _ = text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[..<count]
        }
        let string = String(decoding: response, as: UTF8.self)
        let statusWords = string.split(separator: "\r\n").first?.split(separator: " ") ?? []
        guard statusWords.count >= 2, let code = Int(statusWords[1]) else {
            throw TestFailure("no status line in \(string.prefix(200))")
        }
        let body = string.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (code, body)
    }
}
