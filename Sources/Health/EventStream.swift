import Foundation
import Messaging

/// Server-sent events (`text/event-stream`) for the operator's page: the head that opens a stream
/// and each event as bytes.
enum EventStream {
    /// At most this many pages follow the stream at once; more get 503. Each costs a socket and a
    /// JSON rendering per sample.
    static let maxClients = 4
    /// A client further behind than this is dropped rather than buffered for.
    static let maxBacklog = 256 << 10

    static let head = Array(
        ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
            + "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n\r\nretry: 2000\n\n").utf8
    )

    /// One `data:` event; JSON never holds a raw newline, so one line suffices.
    static func event(_ name: String, _ data: JSONValue) -> [UInt8] {
        var bytes = Array("event: \(name)\ndata: ".utf8)
        bytes += Array(data.serialized(sortedKeys: false))
        bytes += Array("\n\n".utf8)
        return bytes
    }
}
