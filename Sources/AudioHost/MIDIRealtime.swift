// MIDI on the host's `midi_in` port, in the host client's cycle: mapped controllers move
// parameters, a learning mapping takes the first unmapped controller, and what the command
// thread reports is queued in a ring. Plain memory made once; nothing allocates, locks or retains.

import Foundation
import Jack
import Synchronization

/// mod-host's `MAX_MIDI_CC_ASSIGN`.
let midiMappingCapacity = 1024
/// Events waiting for the command thread; more in one batch are dropped.
let midiEventCapacity = 1024
/// mod-host maps pitch bend as this controller number (one no MIDI controller can have).
let pitchBendController = 131

enum MIDIMappingState: UInt32 {
    case unused = 0
    case mapped = 1
    case learning = 2
}

/// Where a mapped controller's value goes. Written by the command thread only while its
/// mapping is unused and no cycle can still be reading it.
struct MIDITarget {
    /// The instance's pending and published value of the port (nil: 9995, which the command
    /// thread applies from the event).
    var pending: UnsafeMutablePointer<Atomic<UInt32>>?
    var published: UnsafeMutablePointer<Atomic<UInt32>>?
    /// `:bypass` on a plugin without an `lv2:enabled` port: the instance's bypass flag.
    var bypassFlag: UnsafeMutablePointer<Atomic<UInt32>>?
    /// `:bypass`: below 64 is bypassed; on an `lv2:enabled` port the port gets the opposite.
    var isBypass = false
    var toggle = false
    var trigger = false
    var logarithmic = false
    var integer = false
    var minimum: Float = 0
    var maximum: Float = 1
    var portMinimum: Float = -.greatestFiniteMagnitude
    var portMaximum: Float = .greatestFiniteMagnitude
}

/// One event for the command thread.
struct MIDIEventRecord {
    enum Kind: UInt8 { case parameter, mapped, controlChange, programChange, clockTempo, clockStart, clockStop }
    var kind: Kind = .parameter
    var slot: Int32 = 0
    var channel: Int32 = 0
    var controller: Int32 = 0
    var value: Float = 0
}

struct MIDIRealtime {
    var input: JackPort?
    var states: UnsafeMutablePointer<Atomic<UInt32>>
    /// Per mapping: channel << 16 | controller.
    var keys: UnsafeMutablePointer<Atomic<UInt32>>
    var targets: UnsafeMutablePointer<MIDITarget>
    /// [0] the learning mapping or -1, [1] monitored control channels (bit mask), [2] monitored
    /// program channels, [3] events written, [4] events read, [5] 1 while following MIDI clock,
    /// [6] frames so far, [7] the frame of the last clock tick (0: none), [8] the filtered tick
    /// length in frames (Double bits).
    var shared: UnsafeMutablePointer<Atomic<Int>>
    var events: UnsafeMutablePointer<MIDIEventRecord>
    var sampleRate: Double

    static let sharedCount = 9

    static func make(input: JackPort?, sampleRate: Double) -> MIDIRealtime {
        let states = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: midiMappingCapacity)
        let keys = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: midiMappingCapacity)
        for index in 0..<midiMappingCapacity {
            (states + index).initialize(to: Atomic(0))
            (keys + index).initialize(to: Atomic(0))
        }
        let targets = UnsafeMutablePointer<MIDITarget>.allocate(capacity: midiMappingCapacity)
        targets.initialize(repeating: MIDITarget(), count: midiMappingCapacity)
        let shared = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: sharedCount)
        shared.initialize(to: Atomic(-1))
        for index in 1..<sharedCount { (shared + index).initialize(to: Atomic(0)) }
        let events = UnsafeMutablePointer<MIDIEventRecord>.allocate(capacity: midiEventCapacity)
        events.initialize(repeating: MIDIEventRecord(), count: midiEventCapacity)
        return MIDIRealtime(
            input: input,
            states: states,
            keys: keys,
            targets: targets,
            shared: shared,
            events: events,
            sampleRate: sampleRate
        )
    }

    func free() {
        states.deallocate()
        keys.deallocate()
        targets.deallocate()
        shared.deallocate()
        events.deallocate()
    }

    /// One cycle's MIDI input.
    @inline(__always) func process(frames: UInt32) {
        let cycleStart = shared[6].add(Int(frames), ordering: .relaxed).oldValue
        guard let input, let buffer = input.buffer(frames: frames) else { return }
        let following = shared[5].load(ordering: .relaxed) != 0
        let count = JackPort.midiEventCount(buffer)
        var index: UInt32 = 0
        while index < count {
            defer { index += 1 }
            guard let event = JackPort.midiEvent(buffer, index), event.size > 0 else { continue }
            if following && event.bytes[0] >= 0xF8 {
                clock(event.bytes[0], at: cycleStart + Int(event.time))
                continue
            }
            let status = event.bytes[0] & 0xF0
            let channel = Int(event.bytes[0] & 0x0F)
            if status == 0xC0 {
                if event.size == 2 && shared[2].load(ordering: .relaxed) & (1 << channel) != 0 {
                    post(MIDIEventRecord(kind: .programChange, channel: Int32(channel), value: Float(event.bytes[1])))
                }
                continue
            }
            guard event.size == 3 else { continue }
            let controller: Int
            let value: Float
            let highResolution: Bool
            if status == 0xB0 {
                controller = Int(event.bytes[1])
                value = Float(event.bytes[2])
                highResolution = false
            } else if status == 0xE0 {
                controller = pitchBendController
                value = Float(Int(event.bytes[2]) << 7 | Int(event.bytes[1]))
                highResolution = true
            } else {
                continue
            }
            controllerMoved(channel: channel, controller: controller, value: value, highResolution: highResolution)
        }
    }

    /// MIDI beat clock (`transport_sync midi`): 24 ticks a beat give the tempo, smoothed over
    /// ticks and rounded to 0.01 BPM within 20…300; start, continue and stop move the transport.
    @inline(__always) private func clock(_ status: UInt8, at frame: Int) {
        switch status {
        case 0xF8:
            let last = shared[7].exchange(frame, ordering: .relaxed)
            let delta = Double(frame - last)
            // A gap of more than a second is a new start, not a slow tempo.
            guard last != 0, delta > 0, delta < sampleRate else {
                shared[8].store(0, ordering: .relaxed)
                return
            }
            let previous = Double(bitPattern: UInt64(truncatingIfNeeded: shared[8].load(ordering: .relaxed)))
            let filtered = previous == 0 ? delta : previous + (delta - previous) * 0.1
            shared[8].store(Int(truncatingIfNeeded: filtered.bitPattern), ordering: .relaxed)
            let tempo = min(max(((60 * sampleRate / (filtered * 24)) * 100).rounded() / 100, 20), 300)
            post(MIDIEventRecord(kind: .clockTempo, value: Float(tempo)))
        case 0xFA, 0xFB:
            shared[7].store(0, ordering: .relaxed)
            post(MIDIEventRecord(kind: .clockStart))
        case 0xFC:
            post(MIDIEventRecord(kind: .clockStop))
        default:
            break
        }
    }

    @inline(__always) private func controllerMoved(channel: Int, controller: Int, value: Float, highResolution: Bool) {
        let key = UInt32(channel) << 16 | UInt32(controller)
        for slot in 0..<midiMappingCapacity where states[slot].load(ordering: .acquiring) == 1 {
            guard keys[slot].load(ordering: .relaxed) == key else { continue }
            let applied = apply(slot, value, highResolution)
            post(MIDIEventRecord(kind: .parameter, slot: Int32(slot), value: applied))
            return
        }
        let learning = shared[0].exchange(-1, ordering: .acquiring)
        if learning >= 0 && learning < midiMappingCapacity && states[learning].load(ordering: .acquiring) == 2 {
            keys[learning].store(key, ordering: .relaxed)
            let applied = apply(learning, value, highResolution)
            states[learning].store(1, ordering: .releasing)
            post(
                MIDIEventRecord(
                    kind: .mapped,
                    slot: Int32(learning),
                    channel: Int32(channel),
                    controller: Int32(controller),
                    value: applied
                )
            )
        } else if shared[1].load(ordering: .relaxed) & (1 << channel) != 0 && !highResolution {
            post(
                MIDIEventRecord(
                    kind: .controlChange,
                    channel: Int32(channel),
                    controller: Int32(controller),
                    value: value
                )
            )
        }
    }

    /// The parameter value for a controller value (as mod-host computes it, then clamped into
    /// the port's range), written where the mapping points.
    @inline(__always) private func apply(_ slot: Int, _ midiValue: Float, _ highResolution: Bool) -> Float {
        let target = targets[slot]
        let middle: Float = highResolution ? 8192 : 64
        var result: Float
        if target.isBypass {
            let bypassed = midiValue < middle
            result = bypassed ? 1 : 0
            if let bypassFlag = target.bypassFlag { bypassFlag.pointee.store(bypassed ? 1 : 0, ordering: .relaxed) }
            write(target, bypassed ? 0 : 1)
            return result
        }
        if target.trigger {
            result = target.portMaximum
        } else if target.toggle {
            result = midiValue >= middle ? target.portMaximum : target.portMinimum
        } else {
            let fraction = midiValue / (highResolution ? 16383 : 127)
            if fraction <= 0 {
                result = target.minimum
            } else if fraction >= 1 {
                result = target.maximum
            } else if target.logarithmic && target.minimum > 0 && target.maximum > 0 {
                result = target.minimum * Foundation.pow(target.maximum / target.minimum, fraction)
            } else {
                result = target.minimum + (target.maximum - target.minimum) * fraction
            }
            if target.integer { result = result.rounded() }
        }
        result = min(max(result, target.portMinimum), target.portMaximum)
        write(target, result)
        return result
    }

    @inline(__always) private func write(_ target: MIDITarget, _ value: Float) {
        target.pending?.pointee.store(value.bitPattern, ordering: .releasing)
        target.published?.pointee.store(value.bitPattern, ordering: .releasing)
    }

    /// Queues an event for the command thread; a full ring drops it.
    @inline(__always) private func post(_ record: MIDIEventRecord) {
        let written = shared[3].load(ordering: .relaxed)
        guard written - shared[4].load(ordering: .acquiring) < midiEventCapacity else { return }
        events[written % midiEventCapacity] = record
        shared[3].store(written + 1, ordering: .releasing)
    }

    /// The command thread's side: every event queued since the last call.
    func drain() -> [MIDIEventRecord] {
        let written = shared[3].load(ordering: .acquiring)
        var read = shared[4].load(ordering: .relaxed)
        var records: [MIDIEventRecord] = []
        while read < written {
            records.append(events[read % midiEventCapacity])
            read += 1
        }
        shared[4].store(read, ordering: .releasing)
        return records
    }
}
