import ArgumentParser
import Foundation
import Messaging

/// What a set of clients measured: every timed sample of every client, the calls per second of all
/// of them together, and the replies that did not say `"success":true`.
struct Load: Sendable {
    var figures: Figures
    var callsPerSecond: Double
    var failed: Int
}

/// Clients as thin as libzmq allows: each a blocking REQ socket on a thread of its own, sending
/// frames prepared before the clock starts, so the client side costs one `zmq_send` and one
/// `zmq_recv` per call and never dominates what is measured.
enum BlockingClients {
    /// `clients` threads against `endpoint`. `frames(client)` is what that client sends, warm-up
    /// calls first: `warmUp` untimed calls, then every client waits for the others, then `count`
    /// timed calls. With `success` given, a reply without those bytes counts as failed. Every
    /// receive is bounded by `timeout`; a client that gets no reply stops and the run throws.
    static func run(
        _ endpoint: String,
        clients: Int,
        warmUp: Int,
        count: Int,
        success: Data? = nil,
        timeout: Duration = .seconds(10),
        frames: @Sendable @escaping (Int) -> [Data]
    ) async throws -> Load {
        try await onThread(named: "bench clients") {
            try runBlocking(endpoint, clients, warmUp, count, success, timeout, frames)
        }
    }

    private final class Results: @unchecked Sendable {  // written under `lock` only
        let lock = NSLock()
        var samples: [Duration] = []
        var began: ContinuousClock.Instant?
        var ended: ContinuousClock.Instant?
        var failed = 0
        var errors: [String] = []
    }

    private static func runBlocking(
        _ endpoint: String,
        _ clients: Int,
        _ warmUp: Int,
        _ count: Int,
        _ success: Data?,
        _ timeout: Duration,
        _ frames: @Sendable @escaping (Int) -> [Data]
    ) throws -> Load {
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        let results = Results()
        for client in 0..<clients {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                let sent = frames(client)
                var samples: [Duration] = []
                samples.reserveCapacity(count)
                var failed = 0
                var failure: String?
                var began = ContinuousClock.now
                var ended = began
                do {
                    let socket = try ZMQSocket(.req)
                    defer { socket.close() }
                    try socket.set(.receiveTimeout(timeout))
                    try socket.connect(endpoint)
                    func call(_ frame: Data) throws -> Data {
                        _ = try socket.send([frame])
                        guard let reply = try socket.receive() else { throw ValidationErrorText("no reply") }
                        return reply.last ?? Data()
                    }
                    for index in 0..<warmUp { _ = try call(sent[index % sent.count]) }
                    ready.signal()
                    go.wait()
                    let clock = ContinuousClock()
                    began = clock.now
                    for index in 0..<count {
                        let start = clock.now
                        let reply = try call(sent[(warmUp + index) % sent.count])
                        samples.append(clock.now - start)
                        if let success, reply.range(of: success) == nil { failed += 1 }
                    }
                    ended = clock.now
                } catch {
                    failure = "client \(client): \(error)"
                    ready.signal()  // never leave the others waiting for this one
                }
                results.lock.lock()
                results.samples += samples
                results.failed += failed
                if let failure { results.errors.append(failure) }
                if failure == nil {
                    results.began = min(results.began ?? began, began)
                    results.ended = max(results.ended ?? ended, ended)
                }
                results.lock.unlock()
            }
            thread.name = "bench client \(client)"
            thread.start()
        }
        for _ in 0..<clients {
            guard ready.wait(timeout: .now() + 120) == .success else {
                throw ValidationErrorText("the clients' warm-up did not end within 120 s")
            }
        }
        for _ in 0..<clients { go.signal() }
        guard done.wait(timeout: .now() + 600) == .success else {
            throw ValidationErrorText("the clients did not finish within 600 s")
        }
        results.lock.lock()
        defer { results.lock.unlock() }
        if let error = results.errors.first { throw ValidationErrorText(error) }
        guard let began = results.began, let ended = results.ended, !results.samples.isEmpty else {
            throw ValidationErrorText("no samples")
        }
        let elapsed = ended - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Load(
            figures: Figures(results.samples),
            callsPerSecond: Double(results.samples.count) / seconds,
            failed: results.failed
        )
    }

    /// A trivial echo server: a ROUTER socket on a thread of its own sending every message back as
    /// it came, `total` times (then it closes; every receive is bounded). Returns its endpoint.
    static func echoServer(total: Int) async throws -> String {
        let endpoint = OneShot<String>()
        let thread = Thread {
            guard let (socket, bound) = try? echoSocket() else { return endpoint.fulfil("") }
            endpoint.fulfil(bound)
            try? echo(socket, total: total)
        }
        thread.name = "bench echo"
        thread.start()
        let bound = try await endpoint.value
        guard !bound.isEmpty else { throw ValidationErrorText("the echo server could not bind") }
        return bound
    }
}

/// `marlise-bench echo-server`: the floor's echo server in a process of its own, as every hop the
/// session benchmark measures crosses processes (with its own libzmq I/O thread on each side, where
/// an echo server in the clients' process shares theirs). Prints its endpoint, then echoes `total`
/// messages, or stops when a minute passes without one.
struct EchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo-server", shouldDisplay: false)

    @Option var total: Int

    func run() throws {
        let (socket, endpoint) = try BlockingClients.echoSocket()
        FileHandle.standardOutput.write(Data((endpoint + "\n").utf8))
        try BlockingClients.echo(socket, total: total)
    }
}

extension BlockingClients {
    /// The echo server's socket: a ROUTER on a free port, every receive bounded by a minute.
    static func echoSocket() throws -> (ZMQSocket, String) {
        let socket = try ZMQSocket(.router)
        try socket.set(.receiveTimeout(.seconds(60)))
        try socket.bind("tcp://127.0.0.1:*")
        return (socket, try socket.lastEndpoint())
    }

    /// Sends every message back as it came, `total` times or until a receive times out; then closes.
    static func echo(_ socket: ZMQSocket, total: Int) throws {
        defer { socket.close() }
        for _ in 0..<total {
            guard let frames = try socket.receive() else { return }
            _ = try socket.send(frames)
        }
    }

    /// Starts `marlise-bench echo-server` (this executable) for `total` messages; returns the process
    /// and its endpoint. The caller waits for the process once its clients are done.
    static func echoProcess(total: Int) throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["echo-server", "--total", String(total)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while line.last != UInt8(ascii: "\n") {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            line += byte
        }
        let endpoint = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard endpoint.hasPrefix("tcp://") else {
            process.terminate()
            throw ValidationErrorText("the echo server process did not start")
        }
        return (process, endpoint)
    }
}

struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
