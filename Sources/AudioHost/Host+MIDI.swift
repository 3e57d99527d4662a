import Foundation
import ModHostWire

/// A MIDI mapping as the command thread knows it: which parameter a slot of the audio
/// thread's table moves, and the range it was given.
struct MIDIMappingInfo {
    var instance: Int
    var symbol: String
    var minimum: Float
    var maximum: Float
}

/// `midi_learn`, `midi_map` and `midi_unmap`: controllers on `midi_in` moving parameters in the
/// host's cycle. As in mod-host the replies are inverted booleans: 1 done, 0 refused.
extension Host {
    private var midi: MIDIRealtime { realtime.pointee.midi }

    func runMIDI(_ name: String, _ arguments: Arguments) -> ModHostReply? {
        switch name {
        case "midi_learn":
            let done = mapMIDI(
                arguments.int(0),
                arguments[1],
                key: nil,
                minimum: Float(arguments.number(2)),
                maximum: Float(arguments.number(3))
            )
            return .status(done ? 1 : 0)
        case "midi_map":
            let done = mapMIDI(
                arguments.int(0),
                arguments[1],
                key: (arguments.int(2), arguments.int(3)),
                minimum: Float(arguments.number(4)),
                maximum: Float(arguments.number(5))
            )
            return .status(done ? 1 : 0)
        case "midi_unmap":
            guard isInstance(arguments.int(0)),
                let slot = midiMappings.first(where: {
                    $0.value.instance == arguments.int(0) && $0.value.symbol == arguments[1]
                })?
                .key
            else { return .status(0) }
            release([slot])
            return .status(1)
        default:
            return nil
        }
    }

    private func isInstance(_ number: Int) -> Bool { number == transportInstance || instances[number] != nil }

    /// Maps (or, without a key, learns) a controller for `symbol`; an existing mapping of the
    /// same parameter is changed in place, as in mod-host.
    private func mapMIDI(
        _ number: Int,
        _ symbol: String,
        key: (channel: Int, controller: Int)?,
        minimum: Float,
        maximum: Float
    ) -> Bool {
        guard isInstance(number) else { return false }
        var target: MIDITarget
        if number == transportInstance {
            guard (try? transportParameter(symbol)) != nil else { return false }
            target = MIDITarget(minimum: minimum, maximum: maximum)
            target.toggle = symbol == ":rolling"
            target.isBypass = symbol == ":bypass"
            if symbol == ":rolling" {
                target.portMinimum = 0
                target.portMaximum = 1
            }
        } else {
            guard let found = instances[number], let made = found.midiTarget(symbol, minimum: minimum, maximum: maximum)
            else { return false }
            target = made
        }
        // mod-host keeps a `:bypass` mapping's range; it is always 0…1.
        var info = MIDIMappingInfo(instance: number, symbol: symbol, minimum: minimum, maximum: maximum)
        if symbol == ":bypass" {
            info.minimum = 0
            info.maximum = 1
        }
        let slot: Int
        if let existing = midiMappings.first(where: { $0.value.instance == number && $0.value.symbol == symbol })?.key {
            slot = existing
            midi.states[slot].store(MIDIMappingState.unused.rawValue, ordering: .releasing)
            waitHostCycles()
        } else {
            guard let free = (0..<midiMappingCapacity).first(where: { midiMappings[$0] == nil }) else { return false }
            slot = free
        }
        midi.targets[slot] = target
        midiMappings[slot] = info
        if let key {
            midi.keys[slot].store(
                UInt32(truncatingIfNeeded: key.channel) << 16 | UInt32(key.controller & 0xFFFF),
                ordering: .relaxed
            )
            midi.states[slot].store(MIDIMappingState.mapped.rawValue, ordering: .releasing)
        } else {
            midi.states[slot].store(MIDIMappingState.learning.rawValue, ordering: .releasing)
            // One learning at a time: a learn still waiting is dropped, as in mod-host.
            let previous = midi.shared[0].exchange(slot, ordering: .acquiringAndReleasing)
            if previous >= 0 && previous != slot, midi.states[previous].load(ordering: .acquiring) == 2 {
                release([previous])
            }
        }
        return true
    }

    /// Drops an instance's mappings before its memory goes.
    func unmapMIDI(instance number: Int) {
        let slots = midiMappings.filter { $0.value.instance == number }.map(\.key)
        if !slots.isEmpty { release(slots) }
    }

    /// Frees slots once no cycle can still be writing through them.
    private func release(_ slots: [Int]) {
        for slot in slots {
            midi.states[slot].store(MIDIMappingState.unused.rawValue, ordering: .releasing)
            _ = midi.shared[0].compareExchange(expected: slot, desired: -1, ordering: .acquiringAndReleasing)
        }
        waitHostCycles()
        for slot in slots {
            midi.targets[slot] = MIDITarget()
            midiMappings[slot] = nil
        }
    }

    /// Two cycles of the host's client: any cycle that saw an old mapping has ended.
    private func waitHostCycles() {
        let counter = realtime.pointee.counters + 1
        let start = counter.pointee.load(ordering: .acquiring)
        let deadline = ContinuousClock.now + .seconds(1)
        while counter.pointee.load(ordering: .acquiring) - start < 2 && ContinuousClock.now < deadline {
            usleep(500)
        }
    }

    /// What the audio thread did with MIDI, as mod-host reports it on the feedback port.
    func pollMIDI() {
        midi.shared[5].store(transport.syncMode == "midi" ? 1 : 0, ordering: .relaxed)
        midi.shared[1].store(monitoring.midiControlChannels.reduce(0) { $0 | 1 << $1 }, ordering: .relaxed)
        midi.shared[2].store(monitoring.midiProgramChannels.reduce(0) { $0 | 1 << $1 }, ordering: .relaxed)
        for record in midi.drain() {
            switch record.kind {
            case .parameter, .mapped:
                guard let info = midiMappings[Int(record.slot)] else { continue }
                applyFromMIDI(info, record.value)
                if record.kind == .mapped {
                    feedback.append(
                        "midi_mapped \(info.instance) \(info.symbol) \(record.channel) \(record.controller) "
                            + "\(format6(record.value)) \(format6(info.minimum)) \(format6(info.maximum))"
                    )
                } else {
                    feedback.append("param_set \(info.instance) \(info.symbol) \(format6(record.value))")
                }
            case .controlChange:
                feedback.append("midi_control_change \(record.channel) \(record.controller) \(Int(record.value))")
            case .programChange:
                feedback.append("midi_program_change \(Int(record.value)) \(record.channel)")
            case .clockTempo:
                // Posted every tick: reported only when the rounded tempo changes.
                guard abs(transport.beatsPerMinute - Double(record.value)) >= 0.01 else { continue }
                transport.beatsPerMinute = Double(record.value)
                reportTransport()
            case .clockStart, .clockStop:
                transport.rolling = record.kind == .clockStart
                if transport.rolling { client.startTransport() } else { client.stopTransport() }
                reportTransport()
            }
        }
    }

    /// What the audio thread could not do itself: 9995's transport, and the bypass value kept here.
    private func applyFromMIDI(_ info: MIDIMappingInfo, _ value: Float) {
        if info.instance == transportInstance {
            try? setTransportParameter(info.symbol, Double(value))
        } else if info.symbol == ":bypass" {
            instances[info.instance]?.bypassMovedByMIDI(value)
        }
    }
}
