public import Jack
import Synchronization

/// A JACK client with one MIDI output that plays a note when asked.
// The state is shared with the audio thread through atomics only.
public final class KeyboardClient: @unchecked Sendable {
    public let client: JackClient
    private let state: UnsafeMutablePointer<KeyboardState>

    public init(server: String) throws {
        client = try JackClient(name: "keys", server: server)
        state = .allocate(capacity: 1)
        state.initialize(to: KeyboardState(port: try client.registerPort("out", type: .midi, direction: .output)))
        try client.setProcessCallback(
            { frames, context in
                context?.assumingMemoryBound(to: KeyboardState.self).pointee.play(frames: frames)
                return 0
            },
            context: UnsafeMutableRawPointer(state)
        )
        try client.activate()
    }

    deinit {
        try? client.deactivate()
        client.close()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Note on (`velocity` > 0) or off, sent in the next cycle.
    public func send(note: UInt8, velocity: UInt8) {
        state.pointee.message.store(UInt32(0x90) << 16 | UInt32(note) << 8 | UInt32(velocity), ordering: .releasing)
    }

    /// A control change (3 bytes), sent in the next cycle.
    public func send(channel: UInt8, controller: UInt8, value: UInt8) {
        let status = UInt32(0xB0 | channel)
        state.pointee.message.store(status << 16 | UInt32(controller) << 8 | UInt32(value), ordering: .releasing)
    }

    /// A one-byte message (MIDI start 0xFA, stop 0xFC…), sent in the next cycle.
    public func send(realtime status: UInt8) {
        state.pointee.message.store(1 << 24 | UInt32(status) << 16, ordering: .releasing)
    }

    /// MIDI beat clock: a tick (0xF8) at the start of every cycle while on.
    public func clock(_ on: Bool) { state.pointee.clock.store(on, ordering: .releasing) }

    /// A program change (2 bytes), sent in the next cycle.
    public func send(channel: UInt8, program: UInt8) {
        let status = UInt32(0xC0 | channel)
        state.pointee.message.store(2 << 24 | status << 16 | UInt32(program) << 8, ordering: .releasing)
    }
}

struct KeyboardState: ~Copyable {
    let port: JackPort
    /// A MIDI message waiting (size << 24, size 0 meaning 3; status, data1, data2), or 0.
    let message = Atomic<UInt32>(0)
    let clock = Atomic<Bool>(false)
    let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 3)

    init(port: JackPort) { self.port = port }

    deinit { bytes.deallocate() }

    func play(frames: UInt32) {
        guard let buffer = port.buffer(frames: frames) else { return }
        JackPort.clearMIDI(buffer)
        if clock.load(ordering: .acquiring) {
            bytes[0] = 0xF8
            _ = JackPort.writeMIDI(buffer, time: 0, bytes: bytes, size: 1)
        }
        let waiting = message.exchange(0, ordering: .acquiring)
        guard waiting != 0 else { return }
        bytes[0] = UInt8(waiting >> 16 & 0xFF)
        bytes[1] = UInt8(waiting >> 8 & 0xFF)
        bytes[2] = UInt8(waiting & 0xFF)
        let size = Int(waiting >> 24)
        _ = JackPort.writeMIDI(buffer, time: 0, bytes: bytes, size: size == 0 ? 3 : size)
    }
}
