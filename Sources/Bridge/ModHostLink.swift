import Locking
import Messaging
public import ModHostWire

/// Keeps the bridge connected to mod-host: connects, notices a loss, reconnects with backoff, and
/// lets commands through only while connected, so that a call made while mod-host is down fails
/// at once instead of waiting on a socket.
public final class ModHostLink: Sendable {
    public let client: ModHostClient
    private let health = Locked(LinkHealth())
    private let backoffCap: Duration

    /// Told after every change of health; `cameBack` is set when mod-host returned after a loss.
    public typealias Observer = @Sendable (_ health: LinkHealth, _ cameBack: Bool) async -> Void

    public init(client: ModHostClient, backoffCap: Duration = .seconds(1)) {
        self.client = client
        self.backoffCap = backoffCap
    }

    /// The connection's health now.
    public var snapshot: LinkHealth { health.withLock { $0 } }

    /// Sends `command` if connected; throws `HOST_UNAVAILABLE` at once if not.
    public func send(_ command: ModHostCommand) async throws(BridgeError) -> ModHostReply {
        try checkConnected()
        do {
            return try await client.send(command)
        } catch {
            throw BridgeError(error)
        }
    }

    /// As ``send(_:)``, answering `done` from where the connection's replies are read (or at once,
    /// when not connected) instead of suspending: what lets the request socket's thread go on serving.
    public func submit(_ command: ModHostCommand, done: @escaping @Sendable (Result<ModHostReply, BridgeError>) -> Void)
    {
        do throws(BridgeError) {
            try checkConnected()
        } catch {
            done(.failure(error))
            return
        }
        client.submit(command) { outcome in done(outcome.mapError(BridgeError.init)) }
    }

    private func checkConnected() throws(BridgeError) {
        let (connected, lastError) = health.withLock { ($0.commandConnected, $0.lastError) }
        guard connected else {
            throw BridgeError(.hostUnavailable, "mod-host is not connected" + (lastError.map { ": \($0)" } ?? ""))
        }
    }

    /// Connects and reconnects until the task is cancelled.
    public func run(observer: @escaping Observer) async {
        var events = client.events.makeAsyncIterator()
        var backoff = ReconnectBackoff(cap: backoffCap)
        while !Task.isCancelled {
            let generation: Int
            do {
                generation = try await client.connect()
                // mod-host's feedback flow-control flag outlives its clients: a new client that does
                // not say it has read everything may never get feedback (docs/protocols/mod-host.md, item 7).
                _ = try await client.send(try ModHostCommand("output_data_ready", []))
            } catch {
                await client.disconnect(reason: "\(error)")
                let snapshot = health.withLock { health in
                    health.apply(.connectFailed("\(error)"))
                    return health
                }
                await observer(snapshot, false)
                do { try await Task.sleep(for: backoff.failed()) } catch { break }
                continue
            }
            backoff.succeeded()
            let (snapshot, cameBack) = health.withLock { health in
                let cameBack = health.apply(.connected)
                return (health, cameBack)
            }
            await observer(snapshot, cameBack)
            // Wait for this connection's end; events of older connections are stale.
            loop: while let event = await events.next() {
                switch event {
                case .feedbackLost(let lost) where lost == generation:
                    let snapshot = health.withLock { health in
                        health.apply(.feedbackLost)
                        return health
                    }
                    await observer(snapshot, false)
                    // mod-host pairs a feedback connection with a command connection: the feedback
                    // side cannot be reopened alone, so the pair is, command side first.
                    await client.disconnect(reason: "feedback connection lost")
                case .disconnected(let lost, let reason) where lost == generation:
                    let snapshot = health.withLock { health in
                        health.apply(.disconnected(reason))
                        return health
                    }
                    await observer(snapshot, false)
                    break loop
                default:
                    continue
                }
            }
        }
    }
}
