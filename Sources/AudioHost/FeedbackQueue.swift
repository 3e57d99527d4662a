/// Messages for the feedback port, with mod-host's flow control: a batch ends with
/// `data_finish`, and nothing more is sent until a client sends `output_data_ready`.
struct FeedbackQueue {
    private var waiting: [String] = []
    private var ready = true
    /// Past this many waiting messages the oldest are dropped: no reader is keeping up.
    static let limit = 4096

    var isEmpty: Bool { waiting.isEmpty }

    mutating func append(_ message: String) {
        waiting.append(message)
        if waiting.count > Self.limit { waiting.removeFirst(waiting.count - Self.limit) }
    }

    /// `output_data_ready` from any client.
    mutating func clientReady() { ready = true }

    /// A new feedback reader starts ready (mod-host keeps a stale flag, which can starve it).
    mutating func readerConnected() { ready = true }

    /// The next batch to send, ending in `data_finish`, or nil while waiting for the client.
    mutating func nextBatch() -> [String]? {
        guard ready, !waiting.isEmpty else { return nil }
        defer {
            waiting.removeAll()
            ready = false
        }
        return waiting + ["data_finish"]
    }
}
