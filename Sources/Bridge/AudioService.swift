public import Messaging
import Synchronization

/// The bridge's own JACK client (placeholder until the Jack target's client lands).
public final class AudioService: Sendable {
    public struct Snapshot: Sendable {
        public var open = false
        public var lost = false
        public var server: String?
        public var json: JSONValue {
            ["open": .bool(open), "lost": .bool(lost), "server": server.map { .string($0) } ?? .null]
        }
    }

    private let state: Mutex<Snapshot>
    private let observer = Mutex<(@Sendable (Snapshot) -> Void)?>(nil)

    init(server: String?) { state = Mutex(Snapshot(server: server)) }

    var onChange: (@Sendable (Snapshot) -> Void)? {
        get { observer.withLock { $0 } }
        set { observer.withLock { $0 = newValue } }
    }

    var snapshot: Snapshot { state.withLock { $0 } }

    func close() {}
}

extension Bridge {
    func audioAction(_ object: [String: JSONValue]) async throws(BridgeError) -> JSONValue {
        throw BridgeError(.audioUnavailable, "Audio command failed: not built yet")
    }
}
