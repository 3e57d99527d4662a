import Foundation
import Locking
import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Health for operators over HTTP: `GET /health`, `GET /health/<service>`, `GET /metrics`, and
/// with a history the operator's page (`GET /`, `/history`, `/events`, `POST /services/…`).
///
/// Our own small HTTP/1.1 server on a thread of its own, in place of FlyingFox: its request parser
/// took time quadratic in the request's length (a 10 kB path cost the supervisor 80 ms of CPU, a
/// 100 kB one 5 s), and it wrote head and body apart, so Nagle and the client's delayed ACK added
/// 40 ms to every answer. Here a request head is at most 8 KiB (431 beyond), a connection idle for
/// 5 s is closed, at most 32 are open at once, and every answer leaves in one write.
///
/// The page's live stream stays on this server rather than Hummingbird 2 with
/// hummingbird-websocket: server-sent events are plain HTTP this loop already speaks, the loop is
/// tested against hostile input, and Hummingbird would add a SwiftNIO dependency tree and its
/// event-loop threads to the supervisor for one page. A stream is a connection that is never idle
/// closed and gets an event whenever the history changes (checked on every turn of the loop, at
/// least once a second); at most ``EventStream/maxClients`` are open, and one that stops reading
/// is dropped past ``EventStream/maxBacklog``.
public final class HealthHTTPServer: Sendable {
    private let listener: TCPListener
    private let wake: (read: Int32, write: Int32)
    private let board: HealthBoard
    private let history: HealthHistory?
    private let actions: OperatorActions?
    private let stopped = OneShot<Void>()

    static let maxHead = 8192
    static let maxConnections = 32
    static let idleTimeout: Duration = .seconds(5)

    /// Listens on `host:port` (port 0: any free port, see ``port``) at once.
    /// With `history`, the operator's page is served too; with `actions`, it may act on services.
    public init(
        host: String = "127.0.0.1",
        port: UInt16,
        board: HealthBoard,
        history: HealthHistory? = nil,
        actions: OperatorActions? = nil
    ) throws {
        self.board = board
        self.history = history
        self.actions = actions
        listener = try TCPListener(host: host, port: port)
        do {
            wake = try makePipe(nonBlocking: true)
        } catch {
            listener.close()
            throw error
        }
    }

    deinit {
        listener.close()
        close(wake.read)
        close(wake.write)
    }

    /// Serves until ``stop()``.
    public func run() async throws {
        let thread = Thread { [self] in
            serve()
            stopped.fulfil(())
        }
        thread.name = "marlise-http"
        thread.start()
        // Cancelling the task that runs the server stops it, as ``stop()`` does.
        await withTaskCancellationHandler {
            try? await stopped.value
        } onCancel: {
            wakeUp()
        }
    }

    /// The port listened on.
    public var port: UInt16? {
        get async { listener.port }
    }

    /// Stops serving and closes every connection.
    public func stop() async { wakeUp() }

    private func wakeUp() {
        var byte: UInt8 = 1
        // A full pipe (EAGAIN) has woken the loop already.
        _ = retryingOnInterrupt { write(wake.write, &byte, 1) }
    }

    // MARK: - The loop

    private struct Connection {
        var peer: String
        /// Following the event stream: input is ignored, events are appended as they come.
        var streaming = false
        var sentVersion = 0
        var input: [UInt8] = []
        var output: [UInt8] = []
        var closeWhenSent = false
        var lastActivity = ContinuousClock.now
    }

    private func serve() {
        var connections: [Int32: Connection] = [:]
        defer { for fd in connections.keys { close(fd) } }
        while true {
            var polled = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            if connections.count < Self.maxConnections {
                polled.append(pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0))
            }
            for (fd, connection) in connections {
                // A client that does not read its answers is not read from either.
                let events = connection.output.isEmpty ? POLLIN : POLLOUT
                polled.append(pollfd(fd: fd, events: Int16(events), revents: 0))
            }
            guard retryingOnInterrupt({ poll(&polled, nfds_t(polled.count), 1000) }) >= 0 else { return }
            let now = ContinuousClock.now
            for entry in polled where entry.revents != 0 {
                if entry.fd == wake.read { return }
                if entry.fd == listener.fd {
                    while connections.count < Self.maxConnections, let fd = listener.accept() {
                        connections[fd] = Connection(peer: peerAddress(fd))
                    }
                    continue
                }
                guard var connection = connections[entry.fd] else { continue }
                let open =
                    entry.revents & Int16(POLLOUT) != 0
                    ? send(&connection, to: entry.fd)
                    : receive(&connection, from: entry.fd)
                connection.lastActivity = now
                if open {
                    connections[entry.fd] = connection
                } else {
                    close(entry.fd)
                    connections[entry.fd] = nil
                }
            }
            pushEvents(&connections)
            for (fd, connection) in connections
            where !connection.streaming && now - connection.lastActivity > Self.idleTimeout {
                close(fd)
                connections[fd] = nil
            }
        }
    }

    /// Reads what is there and answers every complete request head; false when the connection ends.
    private func receive(_ connection: inout Connection, from fd: Int32) -> Bool {
        guard let bytes = TCPConnection.receive(fd) else { return true }  // nothing yet
        guard !bytes.isEmpty else { return false }
        if connection.streaming { return true }
        var scanFrom = max(0, connection.input.count - 3)  // earlier bytes were searched already
        connection.input += bytes
        while !connection.closeWhenSent, let end = headEnd(connection.input, from: scanFrom) {
            scanFrom = 0
            let head = Array(connection.input[..<end])
            connection.input.removeFirst(end + 4)
            let request = HTTPRequestHead(head)
            let outcome = OperatorRoutes.answer(
                request,
                peer: connection.peer,
                board: board,
                history: history,
                actions: actions
            )
            guard case .answer(let answer) = outcome else {
                openStream(&connection)
                break
            }
            connection.output += answer.bytes(keepAlive: request?.keepAlive ?? false)
            if request?.keepAlive != true || request?.hasBody == true { connection.closeWhenSent = true }
        }
        if !connection.closeWhenSent && connection.input.count > Self.maxHead {
            connection.output += HealthAnswer(431, text: "request head over \(Self.maxHead) bytes\n").bytes(
                keepAlive: false
            )
            connection.closeWhenSent = true
        }
        if connection.closeWhenSent { connection.input = [] }
        return connection.output.isEmpty ? !connection.closeWhenSent : send(&connection, to: fd)
    }

    /// Open event streams; only the serving thread touches it.
    private let streams = Locked(0)

    /// Turns the connection into an event stream, or answers 503 when enough are open.
    private func openStream(_ connection: inout Connection) {
        guard let history else { return }
        connection.input = []
        guard streams.withLock({ $0 }) < EventStream.maxClients else {
            connection.output += HealthAnswer(503, text: "at most \(EventStream.maxClients) event streams\n").bytes(
                keepAlive: false
            )
            connection.closeWhenSent = true
            return
        }
        streams.withLock { $0 += 1 }
        connection.streaming = true
        connection.output += EventStream.head
        let (version, event) = history.snapshot(report: board.report)
        connection.output += EventStream.event("sample", event)
        connection.sentVersion = version
    }

    /// Appends what changed to every stream; drops a stream whose client stopped reading.
    private func pushEvents(_ connections: inout [Int32: Connection]) {
        let streaming = connections.filter { $0.value.streaming }
        streams.withLock { $0 = streaming.count }
        guard let history, !streaming.isEmpty else { return }
        let report = board.report
        for (fd, var connection) in streaming {
            if connection.output.count > EventStream.maxBacklog {
                close(fd)
                connections[fd] = nil
                continue
            }
            guard let (version, event) = history.changes(since: connection.sentVersion, report: report) else {
                continue
            }
            connection.output += EventStream.event("sample", event)
            connection.sentVersion = version
            connections[fd] = connection
        }
        streams.withLock { $0 = connections.values.filter(\.streaming).count }
    }

    /// Sends what the socket takes; false when the connection is over.
    private func send(_ connection: inout Connection, to fd: Int32) -> Bool {
        guard let sent = TCPConnection.sendSome(fd, connection.output[...]) else { return false }
        connection.output.removeFirst(sent)
        return !(connection.output.isEmpty && connection.closeWhenSent)
    }

    /// Where `\r\n\r\n` starts, if the bytes hold a whole head; the search starts at `start`.
    private func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= start + 4 else { return nil }
        for index in start...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
