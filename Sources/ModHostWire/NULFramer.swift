/// Cuts a byte stream into mod-host's NUL-terminated messages, whatever the reads' boundaries: a
/// message split across reads is joined, several in one read come out one by one.
///
/// Append what was read, then take messages with ``next()`` until it returns nil; taking them one
/// at a time lets a server stop between commands (after `quit`) with the rest left unread.
public struct NULFramer: Sendable {
    /// The most bytes held while waiting for a NUL: a longer unfinished message is a broken or
    /// hostile peer, and ``next()`` throws rather than let it grow without bound.
    public let limit: Int
    private var buffer: [UInt8] = []
    /// Where the first message not yet taken starts.
    private var start = 0
    /// Bytes before this index hold no NUL: a long message is scanned once, not once per read.
    private var scanned = 0

    public init(limit: Int = 1 << 20) { self.limit = limit }

    /// Bytes received and not yet taken as a message.
    public var pendingCount: Int { buffer.count - start }

    /// Adds bytes as read from the socket.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message without its NUL, or nil until more bytes come.
    ///
    /// Throws when the unfinished message is already longer than ``limit``; it is dropped, and
    /// framing goes on with whatever comes next.
    public mutating func next() throws(FrameTooLong) -> [UInt8]? {
        if let end = buffer[max(start, scanned)...].firstIndex(of: 0) {
            let message = Array(buffer[start..<end])
            start = end + 1
            scanned = start
            return message
        }
        scanned = buffer.count
        guard pendingCount > limit else { return nil }
        buffer.removeAll(keepingCapacity: false)
        start = 0
        scanned = 0
        throw FrameTooLong(limit: limit)
    }

    /// Appends `bytes` and takes every message they complete.
    public mutating func messages(after bytes: some Sequence<UInt8>) throws(FrameTooLong) -> [[UInt8]] {
        append(bytes)
        var messages: [[UInt8]] = []
        while let message = try next() { messages.append(message) }
        return messages
    }

    /// `text` as one message on the wire: its UTF-8 and the terminating NUL.
    public static func frame(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        bytes.append(0)
        return bytes
    }

    /// Drops taken messages, so the buffer holds only what is still pending.
    private mutating func compact() {
        guard start > 0 else { return }
        buffer.removeFirst(start)
        scanned -= start
        start = 0
    }
}

/// An unfinished message outgrew ``NULFramer/limit``.
public struct FrameTooLong: Error, Sendable, Equatable, CustomStringConvertible {
    public var limit: Int
    public var description: String { "a message longer than \(limit) bytes without its NUL" }
}
