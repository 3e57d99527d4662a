public import Foundation
import Locking
public import Messaging

/// Publishes the bridge's events from the one thread that owns the PUB socket — the request
/// socket's thread, so an event caused by a request costs no extra thread wake-up — in one shape,
/// `{type, timestamp, data}`, as two frames `[type, JSON]` so subscribers can filter by topic. The
/// C++ bridge's single-frame form is kept behind ``BridgeConfiguration/singleFramePublish``.
public final class BridgeEvents: Sendable {
    private let server = Locked<FrameServer?>(nil)
    let singleFrame: Bool

    init(singleFrame: Bool) { self.singleFrame = singleFrame }

    /// Events go out through `server`'s PUB socket from now on.
    func attach(_ server: FrameServer) { self.server.withLock { $0 = server } }

    public func publish(_ type: String, _ data: JSONValue) {
        server.withLock { $0 }?.publish(frames: Self.frames(type, data, singleFrame: singleFrame))
    }

    /// `timestamp` is milliseconds since the epoch, as the C++ bridge writes it.
    public static func frames(_ type: String, _ data: JSONValue, singleFrame: Bool, now: Date = Date()) -> [Data] {
        let body: JSONValue = [
            "type": .string(type), "timestamp": .int(Int((now.timeIntervalSince1970 * 1000).rounded())), "data": data,
        ]
        let json = body.serialized(sortedKeys: true)
        return singleFrame ? [json] : [Data(type.utf8), json]
    }
}

/// An event to publish once the reply that caused it is sent.
struct PendingEvent: Sendable {
    var type: String
    var data: JSONValue
}
