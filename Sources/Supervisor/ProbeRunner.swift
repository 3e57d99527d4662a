import Foundation
import Jack
import Messaging
import ModHostWire
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Runs one check of a ``Probe`` and says how it went.
enum ProbeRunner {
    /// Checks `probe` once within `timeout`. Blocking checks (libjack, TCP connect) run on a thread of
    /// their own, so a wedged peer never holds the cooperative pool; past the timeout the check is
    /// reported failed even if that thread is still waiting.
    /// `client` is reused for an RPC probe when given (a liveness loop keeps one; each new client
    /// costs a thread and a socket); `jack`, when given, checks a JACK probe with the client it
    /// keeps open instead of opening one; `reply` is given an RPC probe's answer (the session's
    /// `health_check` carries its request counts), so what it reports costs no call of its own.
    static func check(
        _ probe: Probe,
        timeout: Duration,
        client: RPCClient? = nil,
        jack: JackWatch? = nil,
        reply: (@Sendable (JSONValue) -> Void)? = nil
    ) async -> Result<Void, ProbeFailure> {
        switch probe {
        case .spawned, .notify:
            return .success(())
        case .jack(let server):
            if let jack {
                return await blocking(timeout: timeout) {
                    jack.check().mapError { ProbeFailure(message: "\($0)", underlying: $0) }
                }
            }
            return await blocking(timeout: timeout) {
                JackProbe.check(server: server).mapError { ProbeFailure(message: "\($0)", underlying: $0) }
            }
        case .tcp(let port):
            return await blocking(timeout: timeout) { connect(port: port, timeout: timeout).map { close($0) } }
        case .modhost(let port):
            return await blocking(timeout: timeout) {
                connect(port: port, timeout: timeout).flatMap { fd in
                    defer { close(fd) }
                    return askCPULoad(fd, port: port, timeout: timeout)
                }
            }
        case .rpc(let endpoint, let method):
            guard let client else {
                let owned = RPCClient(RPCClientConfiguration(endpoint: endpoint, timeout: timeout))
                let result = await call(owned, endpoint: endpoint, method: method, reply: reply)
                await owned.shutdown()
                return result
            }
            return await call(client, endpoint: endpoint, method: method, reply: reply)
        }
    }

    private static func call(
        _ client: RPCClient,
        endpoint: String,
        method: String,
        reply: (@Sendable (JSONValue) -> Void)?
    ) async -> Result<Void, ProbeFailure> {
        do {
            let answer = try await client.call(method)
            reply?(answer)
            return .success(())
        } catch  where error.code == .timeout || error.code == .transportError || error.code == .shutdown {
            return .failure(ProbeFailure(message: "\(endpoint): \(error.message)", underlying: error))
        } catch {
            // Any reply, even an error, proves the service is answering.
            return .success(())
        }
    }

    /// Where blocking checks run: a pool that keeps its threads, rather than a new thread per check.
    /// Not ``onThread(named:_:)``: a check recurs every interval and may be abandoned at its timeout,
    /// so it needs a pool and a wait that can stop early, and no task left behind to await it.
    private static let checks = DispatchQueue(label: "marlise.probes", attributes: .concurrent)

    private static func blocking(
        timeout: Duration,
        _ body: @Sendable @escaping () -> Result<Void, ProbeFailure>
    ) async -> Result<Void, ProbeFailure> {
        let outcome = OneShot<Result<Void, ProbeFailure>>()
        checks.async { outcome.fulfil(body()) }
        // Whichever comes first: the answer, or the timeout (the check's thread may go on waiting).
        return await withTaskGroup(of: Result<Void, ProbeFailure>.self) { group in
            group.addTask { (try? await outcome.value) ?? .failure(ProbeFailure(message: "cancelled")) }
            group.addTask {
                guard (try? await Task.sleep(for: timeout)) != nil else {
                    return .failure(ProbeFailure(message: "cancelled"))
                }
                return .failure(ProbeFailure(message: "no answer within \(timeout.readable)"))
            }
            let first = await group.next() ?? .failure(ProbeFailure(message: "cancelled"))
            group.cancelAll()
            return first
        }
    }

    /// A non-blocking TCP connection to 127.0.0.1:`port`; the caller closes it.
    private static func connect(port: Int, timeout: Duration) -> Result<Int32, ProbeFailure> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(ProbeFailure(message: "socket: \(errnoText())")) }
        var keep = false
        defer { if !keep { close(fd) } }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started != 0 && errno != EINPROGRESS {
            return .failure(ProbeFailure(message: "port \(port): \(errnoText())"))
        }
        var item = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        guard retryingOnInterrupt({ poll(&item, 1, milliseconds) }) == 1 else {
            return .failure(ProbeFailure(message: "port \(port): timed out"))
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = errno }
        guard error == 0 else {
            return .failure(ProbeFailure(message: "port \(port): \(errnoText(error))"))
        }
        keep = true
        return .success(fd)
    }

    /// Sends `cpu_load` and waits for a NUL-terminated `resp`.
    private static func askCPULoad(_ fd: Int32, port: Int, timeout: Duration) -> Result<Void, ProbeFailure> {
        let command = NULFramer.frame("cpu_load")
        let sent = retryingOnInterrupt {
            command.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        guard sent == command.count
        else { return .failure(ProbeFailure(message: "port \(port): cannot send")) }
        let deadline = ContinuousClock.now + timeout
        var framer = NULFramer()
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let left = deadline - ContinuousClock.now
            let milliseconds = Int32(
                max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            )
            var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard milliseconds > 0, retryingOnInterrupt({ poll(&item, 1, milliseconds) }) == 1 else {
                return .failure(ProbeFailure(message: "port \(port): no reply to cpu_load within \(timeout.readable)"))
            }
            let count = retryingOnInterrupt { recv(fd, &buffer, buffer.count, 0) }
            guard count > 0 else { return .failure(ProbeFailure(message: "port \(port): closed without a reply")) }
            framer.append(buffer[..<count])
            let reply: [UInt8]?
            do { reply = try framer.next() } catch {
                return .failure(ProbeFailure(message: "port \(port): reply to cpu_load: \(error)", underlying: error))
            }
            guard let reply else { continue }
            switch ModHostReply(reply) {
            case .status, .value: return .success(())
            case .parserError, .text:
                return .failure(ProbeFailure(message: "port \(port): unexpected reply to cpu_load"))
            }
        }
    }
}

/// Why a probe failed, in words for the health report and the log.
public struct ProbeFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// libjack's error or the socket's errno behind it, kept for the log.
    public var underlying: (any Error)? = nil
    public var description: String { message }
}
