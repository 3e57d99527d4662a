// The host's own JACK client's cycle: MIDI on `midi_in` and audio level monitors
// (`monitor_audio_levels`). Plain memory made once; nothing here allocates, locks or retains.

import Jack
import Synchronization

/// The most audio monitors at once (mod-host has no limit; 64 is far beyond any pedalboard).
let audioMonitorCapacity = 64

/// What the host client's process callback sees.
struct HostRealtime {
    /// Monitor ports, filled by the command thread before it raises `monitorCount`.
    var monitorPorts: UnsafeMutablePointer<JackPort?>
    /// Per monitor: the peak (bit pattern) since the command thread last took it.
    var peaks: UnsafeMutablePointer<Atomic<UInt32>>
    /// [0] monitors in use, [1] completed cycles.
    var counters: UnsafeMutablePointer<Atomic<Int>>
    var midi: MIDIRealtime

    static func make(midiInput: JackPort?, sampleRate: Double) -> UnsafeMutablePointer<HostRealtime> {
        let ports = UnsafeMutablePointer<JackPort?>.allocate(capacity: audioMonitorCapacity)
        ports.initialize(repeating: nil, count: audioMonitorCapacity)
        let peaks = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: audioMonitorCapacity)
        for index in 0..<audioMonitorCapacity { (peaks + index).initialize(to: Atomic(0)) }
        let counters = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 2)
        counters.initialize(to: Atomic(0))
        (counters + 1).initialize(to: Atomic(0))
        let pointer = UnsafeMutablePointer<HostRealtime>.allocate(capacity: 1)
        pointer.initialize(
            to: HostRealtime(
                monitorPorts: ports,
                peaks: peaks,
                counters: counters,
                midi: MIDIRealtime.make(input: midiInput, sampleRate: sampleRate)
            )
        )
        return pointer
    }

    /// Frees what `make` made; only once the client is closed.
    static func free(_ pointer: UnsafeMutablePointer<HostRealtime>) {
        pointer.pointee.monitorPorts.deallocate()
        pointer.pointee.peaks.deallocate()
        pointer.pointee.counters.deallocate()
        pointer.pointee.midi.free()
        pointer.deallocate()
    }

    @inline(__always) func process(frames: UInt32) {
        midi.process(frames: frames)
        let count = counters[0].load(ordering: .acquiring)
        for index in 0..<min(count, audioMonitorCapacity) {
            guard let port = monitorPorts[index], let buffer = port.buffer(frames: frames) else { continue }
            let samples = buffer.assumingMemoryBound(to: Float.self)
            var peak: Float = 0
            for frame in 0..<Int(frames) { peak = max(peak, abs(samples[frame])) }
            let held = Float(bitPattern: peaks[index].load(ordering: .relaxed))
            if peak > held { peaks[index].store(peak.bitPattern, ordering: .releasing) }
        }
        counters[1].add(1, ordering: .releasing)
    }
}

/// JACK's process callback of the host's own client.
let processHost: JackClient.ProcessCallback = { frames, context in
    guard let context else { return 0 }
    context.assumingMemoryBound(to: HostRealtime.self).pointee.process(frames: frames)
    return 0
}
