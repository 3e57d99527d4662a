// What the audio thread touches: plain structs of pointers, made before activation and freed
// after deactivation. Nothing here allocates, locks or retains.

import Jack
import LV2
import Synchronization

/// The role of one LV2 port in the cycle.
enum PortRole: UInt8 {
    /// Audio or CV: the JACK port's buffer is handed to the plugin each cycle.
    case signalInput, signalOutput
    case controlInput, controlOutput
    /// Atom ports: MIDI from or to a JACK MIDI port, or (without `jack`) an empty sequence.
    case atomInput, atomOutput
    /// Ports this host does not feed; connected to a silent scratch buffer.
    case unused
}

struct RealtimePort {
    var role: PortRole
    /// The LV2 port index.
    var index: Int
    var jack: JackPort?
    /// Atom ports: the sequence buffer, `atomCapacity` bytes, 8-byte aligned.
    var atom: UnsafeMutableRawPointer?
}

/// "No value waiting": a NaN no parser lets through.
let noPendingValue: UInt32 = 0x7FC0_0ABC

/// Bytes of each atom buffer.
let atomCapacity = 8192

/// Flags the host shares with every instance's audio thread.
struct SharedFlags: ~Copyable {
    /// `feature_enable processing 0` silences every instance.
    let processing = Atomic<Bool>(true)
}

/// A control input driven by a CV port (`cv_map`). Written by the command thread only while
/// its slot is inactive and no cycle can still read it; `previous` by the audio thread only.
struct CVSource {
    var port: JackPort?
    var sourceMinimum: Float = 0
    var sourceMaximum: Float = 1
    var minimum: Float = 0
    var maximum: Float = 1
    var toggle = false
    var integer = false
    var previous: Float = .nan
}

/// One instance as its JACK process callback sees it.
struct RealtimeInstance {
    var plugin: RealtimePlugin
    var ports: UnsafeMutablePointer<RealtimePort>
    var portCount: Int
    /// Each port's control value, which the plugin reads or writes in place.
    var values: UnsafeMutablePointer<Float>
    /// Per port: a value the host asks for (bit pattern), or `noPendingValue`.
    var pending: UnsafeMutablePointer<Atomic<UInt32>>
    /// Per port, for the host to read: a control input's value as last asked for (written by the
    /// host's thread only: a cycle republishing it could overwrite a newer value with the one it
    /// started with), a control output's value after the last cycle.
    var published: UnsafeMutablePointer<Atomic<UInt32>>
    /// [0] bypass (0/1), [1] completed cycles, [2] held (1: the plugin is not run, outputs silent).
    var state: UnsafeMutablePointer<Atomic<UInt32>>
    var shared: UnsafePointer<SharedFlags>
    /// Audio ports' LV2 indices in order, for bypass: input k goes to output k.
    var audioInputs: UnsafeMutablePointer<Int>
    var audioInputCount: Int
    var audioOutputs: UnsafeMutablePointer<Int>
    var audioOutputCount: Int
    /// This cycle's buffer of each port.
    var buffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    var sequenceType: UInt32
    var chunkType: UInt32
    var midiEventType: UInt32
    /// Per port: its CV source, and whether it is active (1) or not (0).
    var cvSources: UnsafeMutablePointer<CVSource>
    var cvActive: UnsafeMutablePointer<Atomic<UInt32>>
    /// Patch messages in and out (`patch_set`, `patch_get` and their feedback).
    var patch: PatchRealtime
    /// The plugin's LV2 worker, whose responses follow each `run`.
    var worker: UnsafeMutablePointer<RealtimeWorker>

    /// One JACK cycle.
    @inline(__always) func process(frames: UInt32) {
        if state[2].load(ordering: .acquiring) != 0 {
            hold(frames: frames)
            return
        }
        for slot in 0..<portCount {
            let port = ports[slot]
            switch port.role {
            case .signalInput, .signalOutput:
                let buffer = port.jack?.buffer(frames: frames)
                buffers[slot] = buffer
                plugin.connect(port.index, to: buffer)
            case .controlInput:
                let bits = pending[slot].exchange(noPendingValue, ordering: .acquiring)
                if bits != noPendingValue { values[slot] = Float(bitPattern: bits) }
                if cvActive[slot].load(ordering: .acquiring) != 0 { followCV(slot, frames: frames) }
            case .atomInput:
                guard let atom = port.atom else { continue }
                fillSequence(atom, from: port.jack, frames: frames)
                if slot == patch.controlSlot { patch.deliver(into: atom, frames: frames) }
            case .atomOutput:
                if let atom = port.atom { prepareOutput(atom) }
            case .controlOutput, .unused:
                break
            }
        }

        if !shared.pointee.processing.load(ordering: .relaxed) {
            for k in 0..<audioOutputCount { silence(buffers[audioOutputs[k]], frames: frames) }
        } else if state[0].load(ordering: .relaxed) != 0 {
            for k in 0..<audioOutputCount {
                guard let output = buffers[audioOutputs[k]] else { continue }
                if k < audioInputCount, let input = buffers[audioInputs[k]] {
                    output.copyMemory(from: input, byteCount: Int(frames) * 4)
                } else {
                    silence(output, frames: frames)
                }
            }
        } else {
            plugin.run(frames: frames)
            worker.pointee.endCycle()
        }

        for slot in 0..<portCount {
            let port = ports[slot]
            switch port.role {
            case .controlOutput:
                published[slot].store(values[slot].bitPattern, ordering: .releasing)
            case .atomOutput:
                guard let atom = port.atom else { continue }
                patch.collect(from: atom)
                if let jack = port.jack { writeMIDI(atom, to: jack, frames: frames) }
            default:
                break
            }
        }
        state[1].add(1, ordering: .releasing)
    }

    /// A held cycle: no plugin function is called; audio and MIDI outputs are silent.
    @inline(__always) private func hold(frames: UInt32) {
        for slot in 0..<portCount {
            let port = ports[slot]
            guard let buffer = port.jack?.buffer(frames: frames) else { continue }
            if port.role == .signalOutput { silence(buffer, frames: frames) }
            if port.role == .atomOutput { JackPort.clearMIDI(buffer) }
        }
        state[1].add(1, ordering: .releasing)
    }

    /// A CV-mapped control input takes the CV's first sample, scaled from the source's range
    /// into the mapping's (as mod-host scales it); an unchanged value is left alone.
    @inline(__always) private func followCV(_ slot: Int, frames: UInt32) {
        let source = cvSources[slot]
        guard let buffer = source.port?.buffer(frames: frames) else { return }
        let input = buffer.load(as: Float.self)
        var value: Float
        if input <= source.sourceMinimum {
            value = source.minimum
        } else if input >= source.sourceMaximum {
            value = source.maximum
        } else {
            let fraction = (input - source.sourceMinimum) / (source.sourceMaximum - source.sourceMinimum)
            if source.toggle {
                value = fraction > 0.5 ? source.maximum : source.minimum
            } else {
                value = source.minimum + fraction * (source.maximum - source.minimum)
                if source.integer { value = value.rounded() }
            }
        }
        guard value != source.previous else { return }
        cvSources[slot].previous = value
        values[slot] = value
        published[slot].store(value.bitPattern, ordering: .releasing)
    }

    /// One block off the audio thread while the JACK client is stopped: signal ports share one
    /// silent scratch buffer (outputs are thrown away), atom inputs are empty sequences.
    func preRun(frames: UInt32, scratch: UnsafeMutableRawPointer) {
        for slot in 0..<portCount {
            let port = ports[slot]
            switch port.role {
            case .signalInput, .signalOutput:
                silence(scratch, frames: frames)
                plugin.connect(port.index, to: scratch)
            case .controlInput:
                let bits = pending[slot].exchange(noPendingValue, ordering: .acquiring)
                if bits != noPendingValue { values[slot] = Float(bitPattern: bits) }
            case .atomInput:
                guard let atom = port.atom else { continue }
                fillSequence(atom, from: nil, frames: frames)
                if slot == patch.controlSlot { patch.deliver(into: atom, frames: frames) }
            case .atomOutput:
                if let atom = port.atom { prepareOutput(atom) }
            case .controlOutput, .unused:
                break
            }
        }
        plugin.run(frames: frames)
        worker.pointee.endCycle()
        for slot in 0..<portCount {
            if ports[slot].role == .controlOutput {
                published[slot].store(values[slot].bitPattern, ordering: .releasing)
            } else if ports[slot].role == .atomOutput, let atom = ports[slot].atom {
                patch.collect(from: atom)
            }
        }
    }

    @inline(__always) private func silence(_ buffer: UnsafeMutableRawPointer?, frames: UInt32) {
        buffer?.initializeMemory(as: Float.self, repeating: 0, count: Int(frames))
    }

    /// An atom sequence holding this cycle's MIDI input (or nothing, without a JACK port).
    @inline(__always) private func fillSequence(_ atom: UnsafeMutableRawPointer, from jack: JackPort?, frames: UInt32) {
        // LV2_Atom_Sequence: atom {size, type}, body {unit, pad}; events follow at 16.
        atom.storeBytes(of: UInt32(8), toByteOffset: 0, as: UInt32.self)
        atom.storeBytes(of: sequenceType, toByteOffset: 4, as: UInt32.self)
        atom.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
        guard let jack, let buffer = jack.buffer(frames: frames) else { return }
        var offset = 16
        let count = JackPort.midiEventCount(buffer)
        var index: UInt32 = 0
        while index < count {
            defer { index += 1 }
            guard let event = JackPort.midiEvent(buffer, index) else { continue }
            // LV2_Atom_Event: frames (Int64), body {size, type}, data, padded to 8.
            let padded = (event.size + 7) & ~7
            guard offset + 16 + padded <= atomCapacity else { break }
            atom.storeBytes(of: Int64(event.time), toByteOffset: offset, as: Int64.self)
            atom.storeBytes(of: UInt32(event.size), toByteOffset: offset + 8, as: UInt32.self)
            atom.storeBytes(of: midiEventType, toByteOffset: offset + 12, as: UInt32.self)
            (atom + offset + 16).copyMemory(from: event.bytes, byteCount: event.size)
            offset += 16 + padded
        }
        atom.storeBytes(of: UInt32(offset - 8), toByteOffset: 0, as: UInt32.self)
    }

    /// An output sequence's header says how much room the plugin has (LV2's Chunk convention).
    @inline(__always) private func prepareOutput(_ atom: UnsafeMutableRawPointer) {
        atom.storeBytes(of: UInt32(atomCapacity - 8), toByteOffset: 0, as: UInt32.self)
        atom.storeBytes(of: chunkType, toByteOffset: 4, as: UInt32.self)
    }

    /// The MIDI events a plugin wrote into its output sequence, onto its JACK MIDI port.
    @inline(__always) private func writeMIDI(_ atom: UnsafeMutableRawPointer, to jack: JackPort, frames: UInt32) {
        guard let buffer = jack.buffer(frames: frames) else { return }
        JackPort.clearMIDI(buffer)
        guard atom.load(fromByteOffset: 4, as: UInt32.self) == sequenceType else { return }
        let end = min(8 + Int(atom.load(fromByteOffset: 0, as: UInt32.self)), atomCapacity)
        var offset = 16
        while offset + 16 <= end {
            let time = atom.load(fromByteOffset: offset, as: Int64.self)
            let size = Int(atom.load(fromByteOffset: offset + 8, as: UInt32.self))
            let type = atom.load(fromByteOffset: offset + 12, as: UInt32.self)
            guard offset + 16 + size <= end else { break }
            if type == midiEventType && time >= 0 && time < Int64(frames) {
                _ = JackPort.writeMIDI(
                    buffer,
                    time: UInt32(time),
                    bytes: (atom + offset + 16).assumingMemoryBound(to: UInt8.self),
                    size: size
                )
            }
            offset += 16 + ((size + 7) & ~7)
        }
    }
}

/// JACK's process callback for every instance: the context is the instance's `RealtimeInstance`.
let processInstance: JackClient.ProcessCallback = { frames, context in
    guard let context else { return 0 }
    context.assumingMemoryBound(to: RealtimeInstance.self).pointee.process(frames: frames)
    return 0
}
