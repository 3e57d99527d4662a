// Patch messages in an instance's cycle: `patch_set` / `patch_get` atoms from the command
// thread go into the control input's sequence, and the `patch:Set` objects the plugin writes
// go back for feedback. Rings made once; nothing here allocates, locks or retains.

import LV2

/// mod-host marks its own `patch:Set` with this `patch:sequence`, so a plugin echoing it back
/// is not reported as a change.
let hostPatchSequence: Int32 = -1337

struct PatchRealtime {
    /// `[LV2_Atom][body]` records for the control input (empty without one).
    var input: ByteRing
    /// `[property URID: UInt32][LV2_Atom][body]`: the value of each `patch:Set` the plugin wrote.
    var output: ByteRing
    /// The control input's port slot, or -1.
    var controlSlot: Int
    var urids: PatchURIDs

    /// Bytes of each ring: several messages with paths of a few hundred bytes.
    static let ringCapacity = 16384

    static func make(controlSlot: Int, urids: PatchURIDs) -> PatchRealtime {
        PatchRealtime(
            input: .make(capacity: ringCapacity),
            output: .make(capacity: ringCapacity),
            controlSlot: controlSlot,
            urids: urids
        )
    }

    func free() {
        input.free()
        output.free()
    }

    /// Appends the waiting messages to an input sequence (already holding this cycle's MIDI),
    /// at the cycle's last frame as mod-host does; what does not fit waits for the next cycle.
    @inline(__always) func deliver(into atom: UnsafeMutableRawPointer, frames: UInt32) {
        var offset = 8 + Int(atom.load(fromByteOffset: 0, as: UInt32.self))
        while input.readable >= 8 {
            var size: UInt32 = 0
            _ = withUnsafeMutableBytes(of: &size) { input.peek(into: $0.baseAddress!, count: 4) }
            let padded = (Int(size) + 7) & ~7
            guard offset + 16 + padded <= atomCapacity else {
                if 16 + padded > atomCapacity - 16 { input.skip(8 + Int(size)) }  // never fits: dropped
                break
            }
            guard input.peek(into: atom + offset + 8, count: 8 + Int(size)) else { break }
            input.skip(8 + Int(size))
            atom.storeBytes(of: Int64(max(frames, 1) - 1), toByteOffset: offset, as: Int64.self)
            offset += 16 + padded
        }
        atom.storeBytes(of: UInt32(offset - 8), toByteOffset: 0, as: UInt32.self)
    }

    /// Copies the value of every `patch:Set` in an output sequence into `output`, skipping the
    /// host's own (see `hostPatchSequence`) and what does not fit.
    @inline(__always) func collect(from atom: UnsafeMutableRawPointer) {
        guard atom.load(fromByteOffset: 4, as: UInt32.self) == urids.sequence else { return }
        let end = min(8 + Int(atom.load(fromByteOffset: 0, as: UInt32.self)), atomCapacity)
        var offset = 16
        while offset + 16 <= end {
            let size = Int(atom.load(fromByteOffset: offset + 8, as: UInt32.self))
            let type = atom.load(fromByteOffset: offset + 12, as: UInt32.self)
            guard offset + 16 + size <= end else { break }
            if urids.isObject(type) && size >= 8 { collectSet(atom + offset + 16, size: size) }
            offset += 16 + ((size + 7) & ~7)
        }
    }

    /// One object body (`LV2_Atom_Object_Body` then properties) of `size` bytes.
    @inline(__always) private func collectSet(_ body: UnsafeMutableRawPointer, size: Int) {
        guard body.load(fromByteOffset: 4, as: UInt32.self) == urids.set else { return }
        var property: UInt32?
        var value: UnsafeMutableRawPointer?
        var offset = 8
        // LV2_Atom_Property_Body: key, context, value {size, type}, value body, padded to 8.
        while offset + 16 <= size {
            let key = body.load(fromByteOffset: offset, as: UInt32.self)
            let valueSize = Int(body.load(fromByteOffset: offset + 8, as: UInt32.self))
            let valueType = body.load(fromByteOffset: offset + 12, as: UInt32.self)
            guard offset + 16 + valueSize <= size else { return }
            if key == urids.property && valueType == urids.urid && valueSize >= 4 {
                property = body.load(fromByteOffset: offset + 16, as: UInt32.self)
            } else if key == urids.value {
                value = body + offset + 8
            } else if key == urids.sequenceNumber && valueType == urids.int && valueSize >= 4
                && body.load(fromByteOffset: offset + 16, as: Int32.self) == hostPatchSequence
            {
                return
            }
            offset += 16 + ((valueSize + 7) & ~7)
        }
        guard var property, let value else { return }
        let valueBytes = UnsafeRawBufferPointer(start: value, count: 8 + Int(value.load(as: UInt32.self)))
        _ = withUnsafeBytes(of: &property) { output.write($0, valueBytes) }
    }
}

/// The URIDs the realtime patch code compares, mapped once per instance.
struct PatchURIDs {
    var sequence: UInt32
    var object: UInt32
    var blank: UInt32
    var resource: UInt32
    var set: UInt32
    var property: UInt32
    var value: UInt32
    var sequenceNumber: UInt32
    var urid: UInt32
    var int: UInt32

    init(_ features: HostFeatures) {
        let atom = "http://lv2plug.in/ns/ext/atom#"
        let patch = "http://lv2plug.in/ns/ext/patch#"
        sequence = features.urid(atom + "Sequence")
        object = features.urid(atom + "Object")
        blank = features.urid(atom + "Blank")
        resource = features.urid(atom + "Resource")
        set = features.urid(patch + "Set")
        property = features.urid(patch + "property")
        value = features.urid(patch + "value")
        sequenceNumber = features.urid(patch + "sequenceNumber")
        urid = features.urid(atom + "URID")
        int = features.urid(atom + "Int")
    }

    /// Objects, including the deprecated blank and resource types older plugins write.
    @inline(__always) func isObject(_ type: UInt32) -> Bool { type == object || type == blank || type == resource }
}
