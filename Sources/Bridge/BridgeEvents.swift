public import Foundation
public import Messaging

/// Publishes the bridge's events from the one thread that owns the PUB socket (``Publisher``), in one
/// shape, `{type, timestamp, data}`, as two frames `[type, JSON]` so subscribers can filter by topic.
/// The C++ bridge's single-frame form is kept behind ``BridgeConfiguration/singleFramePublish``.
public struct BridgeEvents: Sendable {
    let publisher: Publisher
    let singleFrame: Bool

    public init(publisher: Publisher, singleFrame: Bool) {
        self.publisher = publisher
        self.singleFrame = singleFrame
    }

    public func publish(_ type: String, _ data: JSONValue) {
        publisher.publish(frames: Self.frames(type, data, singleFrame: singleFrame))
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
