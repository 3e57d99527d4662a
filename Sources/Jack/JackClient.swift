// Every libjack call of a client (other than the probe's) lives in this file.

import CJack
import Foundation
import Locking
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A client of a running JACK server (never one started on demand).
///
/// libjack's client calls are thread-safe, so the client may be used from any thread; none of
/// its methods may be called from the process callback except ``JackPort``'s buffer accessors.
public final class JackClient: @unchecked Sendable {
    /// Guards `client`: `close()` may race any other call.
    private let lock = NSLock()
    /// The client handle; nil after `close()`, when every call fails or answers empty.
    private var client: OpaquePointer?
    /// The name JACK gave the client.
    public let name: String
    /// Shared with libjack's callback threads; freed only after the client is closed.
    private let events: Unmanaged<ClientEvents>

    /// Opens a client named exactly `name` on `server` (libjack's default when nil).
    public init(name: String, server: String? = nil) throws(JackError) {
        silenceLibjack
        var status = jack_status_t(rawValue: 0)
        var options = JackNoStartServer.rawValue | JackUseExactName.rawValue
        if server != nil { options |= JackServerName.rawValue }
        guard let client = marlise_jack_client_open(name, jack_options_t(rawValue: options), &status, server) else {
            throw JackError(operation: "open client '\(name)'", status: status.rawValue)
        }
        self.client = client
        self.name = String(cString: jack_get_client_name(client))
        events = Unmanaged.passRetained(ClientEvents())
        let context = events.toOpaque()
        jack_on_info_shutdown(
            client,
            { _, reason, context in
                guard let context else { return }
                Unmanaged<ClientEvents>.fromOpaque(context).takeUnretainedValue().shutDown(reason: reason)
            },
            context
        )
        jack_set_xrun_callback(
            client,
            { context in
                guard let context else { return 0 }
                Unmanaged<ClientEvents>.fromOpaque(context).takeUnretainedValue().xruns.add(1, ordering: .relaxed)
                return 0
            },
            context
        )
    }

    deinit {
        close()
        events.release()
    }

    /// Closes the client (deactivating it first); safe to call twice.
    public func close() {
        let closing: OpaquePointer? = lock.withLock {
            defer { client = nil }
            return client
        }
        guard let client = closing else { return }
        if !events.takeUnretainedValue().isShutDown { jack_client_close(client) }
        // libjack's threads are gone: no callback comes any more.
        events.takeUnretainedValue().finish()
    }

    private func with<T>(_ fallback: T, _ body: (OpaquePointer) -> T) -> T {
        lock.withLock { client.map(body) ?? fallback }
    }

    private func check(_ operation: String, _ body: (OpaquePointer) -> Int32) throws(JackError) {
        let result = with(-1, body)
        if result != 0 { throw JackError(operation: operation, code: result) }
    }

    // MARK: - Server state

    /// Called once, on a libjack thread, when the server goes away or kicks the client out.
    ///
    /// The handler must not call back into this client; it may signal another thread.
    public func onShutdown(_ handler: @escaping @Sendable (String) -> Void) {
        events.takeUnretainedValue().setShutdownHandler(handler)
    }

    /// Whether the server has gone away under this client.
    public var isShutDown: Bool { events.takeUnretainedValue().isShutDown }

    public var sampleRate: UInt32 { with(0) { jack_get_sample_rate($0) } }
    public var bufferSize: UInt32 { with(0) { jack_get_buffer_size($0) } }
    /// The server's DSP load, percent.
    public var cpuLoad: Float { with(0) { jack_cpu_load($0) } }
    public var isRealtime: Bool { with(false) { jack_is_realtime($0) != 0 } }
    /// The frame count at the start of the server's current cycle, read from shared memory with no
    /// round trip; it stands still when the server stops cycling (frozen, wedged driver).
    public var lastCycleFrame: UInt32 { with(0) { jack_last_frame_time($0) } }
    /// Xruns seen since the client opened or the last ``resetXruns()``.
    public var xruns: Int { events.takeUnretainedValue().xruns.load(ordering: .relaxed) }
    public func resetXruns() { events.takeUnretainedValue().xruns.store(0, ordering: .relaxed) }

    public func setBufferSize(_ frames: UInt32) throws(JackError) {
        try check("set buffer size \(frames)") { jack_set_buffer_size($0, frames) }
    }

    /// The transport's state: rolling, frame, and bar/beat/tempo when a timebase master provides them.
    public var transport: JackTransport {
        with(JackTransport(rolling: false, frame: 0)) { client in
            var position = jack_position_t()
            let state = jack_transport_query(client, &position)
            var result = JackTransport(rolling: state == JackTransportRolling, frame: position.frame)
            if position.valid.rawValue & JackPositionBBT.rawValue != 0 {
                result.beatsPerMinute = position.beats_per_minute
                result.beatsPerBar = Double(position.beats_per_bar)
            }
            return result
        }
    }

    /// Asks JACK to run the graph as fast as it can (freewheeling) or in real time again.
    public func setFreewheel(_ on: Bool) throws(JackError) {
        try check("freewheel") { jack_set_freewheel($0, on ? 1 : 0) }
    }

    public func startTransport() { with(()) { jack_transport_start($0) } }
    public func stopTransport() { with(()) { jack_transport_stop($0) } }

    // MARK: - Processing

    /// The real-time callback: frames in the cycle and the context given here. It must allocate
    /// nothing, lock nothing and touch no Swift reference counting.
    public typealias ProcessCallback = @convention(c) (UInt32, UnsafeMutableRawPointer?) -> Int32

    /// Sets the process callback; call before ``activate()``.
    public func setProcessCallback(_ callback: ProcessCallback, context: UnsafeMutableRawPointer) throws(JackError) {
        try check("set process callback") { jack_set_process_callback($0, callback, context) }
    }

    public func activate() throws(JackError) {
        try check("activate") { jack_activate($0) }
    }

    /// Stops the process callback; once it returns, the callback never runs again.
    public func deactivate() throws(JackError) {
        try check("deactivate") { jack_deactivate($0) }
    }

    // MARK: - Ports

    /// Registers a port of this client; its full name is `<client>:<name>`.
    public func registerPort(
        _ name: String,
        type: JackPortType,
        direction: JackPortDirection
    ) throws(JackError)
        -> JackPort
    {
        let flags = UInt(direction == .input ? JackPortIsInput.rawValue : JackPortIsOutput.rawValue)
        let port = with(nil) { jack_port_register($0, name, type.rawValue, flags, 0) }
        guard let port else { throw JackError(operation: "register port '\(name)'", code: -1) }
        return JackPort(handle: port)
    }

    /// Unregisters a port of this client (its connections go with it).
    public func unregisterPort(_ port: JackPort) throws(JackError) {
        try check("unregister port") { jack_port_unregister($0, port.handle) }
    }

    /// Full names of the ports matching a name regex, a type and direction (nil: any).
    public func ports(
        matching pattern: String? = nil,
        type: JackPortType? = nil,
        direction: JackPortDirection? = nil,
        physical: Bool = false
    ) -> [String] {
        var flags: UInt = 0
        if let direction { flags |= UInt(direction == .input ? JackPortIsInput.rawValue : JackPortIsOutput.rawValue) }
        if physical { flags |= UInt(JackPortIsPhysical.rawValue) }
        return with([]) { client in names(jack_get_ports(client, pattern, type?.rawValue, flags)) }
    }

    /// Whether a port of that full name exists.
    public func hasPort(_ name: String) -> Bool { with(false) { jack_port_by_name($0, name) != nil } }

    /// Full names of the ports connected to `port`.
    public func connections(of port: String) -> [String] {
        with([]) { client in
            guard let handle = jack_port_by_name(client, port) else { return [] }
            return names(jack_port_get_all_connections(client, handle))
        }
    }

    /// Connects two ports by full name, in either order; already connected is success.
    public func connect(_ first: String, _ second: String) throws(JackError) {
        let (source, destination) = try ordered(first, second)
        let result = with(-1) { jack_connect($0, source, destination) }
        if result != 0 && result != EEXIST {
            throw JackError(operation: "connect \(source) to \(destination)", code: result)
        }
    }

    /// Disconnects two ports by full name, in either order; not connected is an error.
    ///
    /// No look at the connection list first: JACK applies graph changes at the next cycle, so a
    /// wire made a moment ago may not be listed yet.
    public func disconnect(_ first: String, _ second: String) throws(JackError) {
        let (source, destination) = try ordered(first, second)
        let result = with(-1) { jack_disconnect($0, source, destination) }
        if result != 0 {
            throw JackError(
                operation: "disconnect \(source) from \(destination)",
                code: result,
                reason: "not connected"
            )
        }
    }

    /// Removes every connection of one port.
    public func disconnectAll(_ port: String) throws(JackError) {
        let result: Int32 = with(-1) { (client: OpaquePointer) -> Int32 in
            guard let handle = jack_port_by_name(client, port) else { return -1 }
            return jack_port_disconnect(client, handle)
        }
        if result != 0 { throw JackError(operation: "disconnect all of \(port)", code: result, reason: "no such port") }
    }

    /// The port's aliases (JACK keeps up to two).
    public func aliases(of port: String) -> [String] {
        with([]) { (client: OpaquePointer) -> [String] in
            guard let handle = jack_port_by_name(client, port) else { return [] }
            return aliasNames(handle)
        }
    }

    /// Sets an alias of a port this process owns.
    public func setAlias(_ alias: String, of port: String) throws(JackError) {
        try check("alias \(port) as \(alias)") { (client: OpaquePointer) -> Int32 in
            guard let handle = jack_port_by_name(client, port) else { return -1 }
            return jack_port_set_alias(handle, alias)
        }
    }

    private func ordered(_ first: String, _ second: String) throws(JackError) -> (String, String) {
        let flags: (Int32, Int32)? = with(nil) { client in
            guard let a = jack_port_by_name(client, first), let b = jack_port_by_name(client, second) else {
                return nil
            }
            return (jack_port_flags(a), jack_port_flags(b))
        }
        guard let flags else {
            let missing = hasPort(first) ? second : first
            throw JackError(operation: "find port \(missing)", code: -1, reason: "no such port")
        }
        let output = Int32(JackPortIsOutput.rawValue)
        if flags.0 & output != 0 && flags.1 & output == 0 { return (first, second) }
        if flags.1 & output != 0 && flags.0 & output == 0 { return (second, first) }
        throw JackError(operation: "connect \(first) and \(second)", code: -1, reason: "needs one output and one input")
    }

    private func names(_ list: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> [String] {
        guard let list else { return [] }
        defer { jack_free(list) }
        var result: [String] = []
        var index = 0
        while let name = list[index] {
            result.append(String(cString: name))
            index += 1
        }
        return result
    }
}

private func aliasNames(_ port: OpaquePointer) -> [String] {
    let size = Int(jack_port_name_size())
    let first = UnsafeMutablePointer<CChar>.allocate(capacity: size)
    let second = UnsafeMutablePointer<CChar>.allocate(capacity: size)
    defer {
        first.deallocate()
        second.deallocate()
    }
    first[0] = 0
    second[0] = 0
    let pointers: [UnsafeMutablePointer<CChar>?] = [first, second]
    let count: Int32 = pointers.withUnsafeBufferPointer { buffer in jack_port_get_aliases(port, buffer.baseAddress) }
    var names: [String] = []
    if count > 0 { names.append(String(cString: UnsafePointer(first))) }
    if count > 1 { names.append(String(cString: UnsafePointer(second))) }
    return names
}

/// A port registered by this process. Its buffer accessors are safe in the process callback.
public struct JackPort: @unchecked Sendable {
    let handle: OpaquePointer

    /// The port's buffer for this cycle: call only from the process callback.
    @inline(__always) public func buffer(frames: UInt32) -> UnsafeMutableRawPointer? {
        jack_port_get_buffer(handle, frames)
    }

    /// The full name, `<client>:<port>`.
    public var name: String { String(cString: jack_port_name(handle)) }

    /// MIDI events waiting in an input port's buffer (process callback only).
    @inline(__always) public static func midiEventCount(_ buffer: UnsafeMutableRawPointer) -> UInt32 {
        jack_midi_get_event_count(buffer)
    }

    /// One MIDI event of an input buffer: its frame offset and bytes (process callback only).
    @inline(__always) public static func midiEvent(
        _ buffer: UnsafeMutableRawPointer,
        _ index: UInt32
    )
        -> (time: UInt32, size: Int, bytes: UnsafeMutablePointer<UInt8>)?
    {
        var event = jack_midi_event_t()
        guard jack_midi_event_get(&event, buffer, index) == 0, let bytes = event.buffer else { return nil }
        return (event.time, event.size, bytes)
    }

    /// Empties an output MIDI buffer (process callback only).
    @inline(__always) public static func clearMIDI(_ buffer: UnsafeMutableRawPointer) {
        jack_midi_clear_buffer(buffer)
    }

    /// Appends an event to an output MIDI buffer (process callback only); false when it is full.
    @inline(__always) public static func writeMIDI(
        _ buffer: UnsafeMutableRawPointer,
        time: UInt32,
        bytes: UnsafePointer<UInt8>,
        size: Int
    ) -> Bool {
        jack_midi_event_write(buffer, time, bytes, size) == 0
    }
}

public enum JackPortType: Sendable {
    case audio, midi

    var rawValue: String { self == .audio ? "32 bit float mono audio" : "8 bit raw midi" }
}

public enum JackPortDirection: Sendable {
    case input, output
}

/// The transport as a client sees it.
public struct JackTransport: Sendable, Equatable {
    public var rolling: Bool
    public var frame: UInt32
    public var beatsPerMinute: Double?
    public var beatsPerBar: Double?
}

/// What libjack's threads report to the client's owner.
///
/// libjack may cancel its threads asynchronously (JACK2 sets `PTHREAD_CANCEL_ASYNCHRONOUS` and
/// kills them in `jack_client_close`), so its callbacks neither lock nor allocate here: a thread
/// cancelled inside a lock leaves it held by a thread that no longer exists, and the next taker
/// crashes (seen: a mailbox's lock, taken by the shutdown handler's event, while the bridge closed
/// the lost client). The shutdown callback copies the reason into a buffer made beforehand, sets a
/// flag and writes a byte to a pipe; a thread of ours reads it and calls the handler.
private final class ClientEvents: @unchecked Sendable {  // `reason`: written once before `down`, read after
    let xruns = Atomic<Int>(0)
    private let down = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private static let reasonBytes = 256
    private let reason = UnsafeMutablePointer<CChar>.allocate(capacity: ClientEvents.reasonBytes)
    /// A pipe: the callback writes a byte, the watcher reads it.
    private let wakeup: (read: Int32, write: Int32)
    private let state = Locked<(delivered: Bool, handler: (@Sendable (String) -> Void)?)>((false, nil))

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { preconditionFailure("pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakeup = (fds[0], fds[1])
        reason.initialize(repeating: 0, count: Self.reasonBytes)
        let watcher = Thread { [self] in watch() }
        watcher.name = "jack shutdown"
        watcher.start()
    }

    deinit {
        Glibc.close(wakeup.read)
        Glibc.close(wakeup.write)
        reason.deallocate()
    }

    var isShutDown: Bool { down.load(ordering: .acquiring) }

    func setShutdownHandler(_ handler: @escaping @Sendable (String) -> Void) {
        let delivered = state.withLock { state in
            state.handler = handler
            return state.delivered
        }
        if delivered { handler("the JACK server had already gone") }
    }

    /// On a libjack thread: a copy into memory made beforehand, an atomic store, a `write`.
    func shutDown(reason text: UnsafePointer<CChar>?) {
        if let text { strncpy(reason, text, Self.reasonBytes - 1) }
        down.store(true, ordering: .releasing)
        signal()
    }

    /// The client is closed: no callback comes any more, and the watcher ends.
    func finish() {
        if !finished.exchange(true, ordering: .acquiringAndReleasing) { signal() }
    }

    private func signal() {
        var byte: UInt8 = 1
        _ = write(wakeup.write, &byte, 1)
    }

    /// On a thread of ours: waits for the shutdown or the close, and tells the handler of the first.
    private func watch() {
        var byte: UInt8 = 0
        while read(wakeup.read, &byte, 1) < 0 && errno == EINTR {}
        guard down.load(ordering: .acquiring) else { return }
        let text = String(cString: reason)
        let handler = state.withLock { state in
            state.delivered = true
            return state.handler
        }
        handler?(text.isEmpty ? "the JACK server went away" : text)
    }
}

/// libjack prints every failed connection to stderr; callers report failures themselves.
let silenceLibjack: Void = {
    jack_set_error_function { _ in }
    jack_set_info_function { _ in }
}()
