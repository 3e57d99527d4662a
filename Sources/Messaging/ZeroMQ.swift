// Every call into libzmq lives in this file: the rest of the module sees Swift types only.

import CZeroMQ
public import Foundation
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Runs one libzmq call, retrying `EINTR` (libzmq reports through `errno` on Linux), and turns a
/// `-1` return into a ``ZMQError``.
@discardableResult
private func zmqCall(_ operation: String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
    let rc = retryingOnInterrupt(body)
    if rc != -1 { return rc }
    throw ZMQError(operation: operation, errno: zmq_errno())
}

extension ZMQError {
    init(operation: String, errno code: Int32) {
        self.init(operation: operation, errno: code, message: String(cString: zmq_strerror(code)))
    }
}

/// A libzmq context: the I/O threads every socket of the process shares.
public final class ZMQContext: @unchecked Sendable {  // libzmq documents contexts as thread-safe.
    fileprivate let handle: UnsafeMutableRawPointer

    /// The process-wide context. It is never terminated, so no socket close can hang on it.
    public static let shared = ZMQContext()

    public init() {
        guard let handle = zmq_ctx_new() else {
            preconditionFailure("zmq_ctx_new failed: \(String(cString: zmq_strerror(zmq_errno())))")
        }
        self.handle = handle
    }

    deinit { zmq_ctx_term(handle) }
}

/// The ZeroMQ socket patterns the stack uses.
public enum SocketType: Sendable {
    case req, rep, dealer, router, pub, sub, pair

    fileprivate var raw: Int32 {
        switch self {
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .pair: ZMQ_PAIR
        }
    }
}

/// Socket options the stack sets. Durations are rounded to milliseconds.
public enum SocketOption: Sendable {
    /// How long unsent messages are kept after close; `nil` waits forever (libzmq's default, which
    /// hangs shutdown behind a dead peer, so every socket here starts at zero).
    case linger(Duration?)
    /// How long a blocking receive waits; `nil` waits forever.
    case receiveTimeout(Duration?)
    /// How long a blocking send waits; `nil` waits forever.
    case sendTimeout(Duration?)
    /// Largest inbound message in bytes; a peer that sends more is disconnected by libzmq.
    case maxMessageSize(Int64)
    /// SUB: receive messages whose first frame starts with this prefix (empty: everything).
    case subscribe(Data)
    case unsubscribe(Data)
    /// Queue messages only to completed connections.
    case immediate(Bool)
    case sendHighWaterMark(Int32)
    case receiveHighWaterMark(Int32)
}

/// A ZeroMQ socket.
///
/// - Important: Not thread-safe and deliberately not `Sendable`: one thread owns it for its
///   whole life (see ``SocketLoop``).
public final class ZMQSocket {
    private let handle: UnsafeMutableRawPointer
    private var isClosed = false
    public let type: SocketType

    /// Opens a socket with `LINGER` 0, so closing never waits for an absent peer.
    public init(_ type: SocketType, context: ZMQContext = .shared) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.raw) else {
            throw ZMQError(operation: "zmq_socket", errno: zmq_errno())
        }
        self.handle = handle
        self.type = type
        try set(.linger(.zero))
    }

    deinit { close() }

    /// Closes the socket; later calls fail with `ENOTSOCK`. Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        zmq_close(handle)
    }

    public func bind(_ endpoint: String) throws(ZMQError) {
        try zmqCall("zmq_bind(\(endpoint))") { zmq_bind(handle, endpoint) }
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        try zmqCall("zmq_connect(\(endpoint))") { zmq_connect(handle, endpoint) }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        try zmqCall("zmq_disconnect(\(endpoint))") { zmq_disconnect(handle, endpoint) }
    }

    public func unbind(_ endpoint: String) throws(ZMQError) {
        try zmqCall("zmq_unbind(\(endpoint))") { zmq_unbind(handle, endpoint) }
    }

    /// The endpoint last bound, with a wildcard port (`tcp://127.0.0.1:*`) resolved to the real one.
    public func lastEndpoint() throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        try zmqCall("zmq_getsockopt(ZMQ_LAST_ENDPOINT)") {
            zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func set(_ option: SocketOption) throws(ZMQError) {
        switch option {
        case .linger(let value): try setInt32(ZMQ_LINGER, milliseconds(value))
        case .receiveTimeout(let value): try setInt32(ZMQ_RCVTIMEO, milliseconds(value))
        case .sendTimeout(let value): try setInt32(ZMQ_SNDTIMEO, milliseconds(value))
        case .maxMessageSize(var bytes):
            try zmqCall("zmq_setsockopt(ZMQ_MAXMSGSIZE)") {
                zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &bytes, MemoryLayout<Int64>.size)
            }
        case .subscribe(let prefix): try setBytes(ZMQ_SUBSCRIBE, prefix)
        case .unsubscribe(let prefix): try setBytes(ZMQ_UNSUBSCRIBE, prefix)
        case .immediate(let on): try setInt32(ZMQ_IMMEDIATE, on ? 1 : 0)
        case .sendHighWaterMark(let count): try setInt32(ZMQ_SNDHWM, count)
        case .receiveHighWaterMark(let count): try setInt32(ZMQ_RCVHWM, count)
        }
    }

    private func milliseconds(_ duration: Duration?) -> Int32 {
        guard let duration else { return -1 }
        return Int32(clamping: duration.milliseconds())
    }

    private func setInt32(_ name: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        try zmqCall("zmq_setsockopt(\(name))") {
            zmq_setsockopt(handle, name, &value, MemoryLayout<Int32>.size)
        }
    }

    private func setBytes(_ name: Int32, _ value: Data) throws(ZMQError) {
        try zmqCall("zmq_setsockopt(\(name))") {
            value.withUnsafeBytes { zmq_setsockopt(handle, name, $0.baseAddress, $0.count) }
        }
    }

    /// Sends a multipart message. With `dontWait`, returns `false` instead of blocking when the
    /// message cannot be queued now (libzmq then has queued none of its frames).
    @discardableResult
    public func send(_ frames: [Data], dontWait: Bool = false) throws(ZMQError) -> Bool {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = dontWait ? ZMQ_DONTWAIT : 0
            if index < frames.count - 1 { flags |= ZMQ_SNDMORE }
            do {
                try zmqCall("zmq_send") {
                    frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                }
            } catch  where error.errno == EAGAIN && index == 0 {
                return false
            }
        }
        return true
    }

    /// Receives one whole multipart message. With `dontWait`, returns `nil` when none is waiting;
    /// without, `nil` means the receive timeout elapsed.
    public func receive(dontWait: Bool = false) throws(ZMQError) -> [Data]? {
        var frames: [Data] = []
        var message = zmq_msg_t()
        zmq_msg_init(&message)
        defer { zmq_msg_close(&message) }
        repeat {
            let flags: Int32 = (dontWait || !frames.isEmpty) ? ZMQ_DONTWAIT : 0
            do {
                try zmqCall("zmq_msg_recv") { zmq_msg_recv(&message, handle, flags) }
            } catch  where error.errno == EAGAIN && frames.isEmpty {
                return nil
            }
            frames.append(Data(bytes: zmq_msg_data(&message), count: zmq_msg_size(&message)))
        } while zmq_msg_more(&message) == 1
        return frames
    }

    /// True when a message can be received now without blocking.
    public func hasPendingInput() throws(ZMQError) -> Bool {
        var events: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try zmqCall("zmq_getsockopt(ZMQ_EVENTS)") { zmq_getsockopt(handle, ZMQ_EVENTS, &events, &size) }
        return events & Int32(ZMQ_POLLIN) != 0
    }

    fileprivate var rawHandle: UnsafeMutableRawPointer { handle }
}

/// Waits on several sockets and file descriptors at once with `zmq_poll`.
///
/// Built once per wait set; ``wait(timeout:)`` reports which entries became readable.
public struct Poller {
    private var items: [zmq_pollitem_t] = []

    public init() {}

    /// Watches `socket` for input; returns its index for ``isReadable(_:)``.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket) -> Int {
        items.append(zmq_pollitem_t(socket: socket.rawHandle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Watches a plain file descriptor for input; returns its index for ``isReadable(_:)``.
    @discardableResult
    public mutating func add(fileDescriptor: Int32) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: Int16(ZMQ_POLLIN), revents: 0))
        return items.count - 1
    }

    /// Blocks until an entry is readable or `timeout` elapses (`nil`: no limit). Returns how many are readable.
    @discardableResult
    public mutating func wait(timeout: Duration?) throws(ZMQError) -> Int {
        let milliseconds: Int
        if let timeout {
            // Round up, so a deadline is never woken for just before it.
            milliseconds = Int(max(0, timeout.milliseconds(rounding: .up)))
        } else {
            milliseconds = -1
        }
        let count = items.count
        return Int(
            try items.withUnsafeMutableBufferPointer { buffer throws(ZMQError) in
                try zmqCall("zmq_poll") { zmq_poll(buffer.baseAddress, Int32(count), milliseconds) }
            }
        )
    }

    public func isReadable(_ index: Int) -> Bool {
        items[index].revents & Int16(ZMQ_POLLIN) != 0
    }
}

/// An eventfd that wakes a thread blocked in ``Poller/wait(timeout:)`` from any other thread.
final class Wakeup: Sendable {
    let fileDescriptor: Int32

    init() {
        let fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(fd >= 0, "eventfd failed: errno \(errno)")
        fileDescriptor = fd
    }

    deinit { Glibc.close(fileDescriptor) }

    /// Fails only when the counter is at its maximum (EAGAIN), which is already a wakeup.
    func signal() {
        var one: UInt64 = 1
        _ = retryingOnInterrupt { write(fileDescriptor, &one, 8) }
    }

    /// Resets the counter so the next wait blocks again; fails only when it is zero (EAGAIN) already.
    func clear() {
        var count: UInt64 = 0
        _ = retryingOnInterrupt { read(fileDescriptor, &count, 8) }
    }
}

/// The libzmq version this process runs against, e.g. `4.3.4`.
public var zeroMQVersion: String {
    var major: Int32 = 0
    var minor: Int32 = 0
    var patch: Int32 = 0
    zmq_version(&major, &minor, &patch)
    return "\(major).\(minor).\(patch)"
}
