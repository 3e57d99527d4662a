import Synchronization

/// A single-producer, single-consumer ring of interleaved stereo samples between JACK's process
/// callback and a thread of ours.
///
/// Everything is allocated up front and reached through plain pointers, so the side in the audio
/// thread allocates nothing, locks nothing and touches no reference count. Positions only grow
/// (an `Int` of frames outlasts any recording); a slot is `position & mask`.
struct SampleRing: @unchecked Sendable {  // Shared only through the two atomic positions.
    /// Frames the ring holds: a power of two.
    let capacity: Int
    private let mask: Int
    private let samples: UnsafeMutablePointer<Float>
    /// `[0]`: frames written (the producer's), `[8]`: frames read (the consumer's), a cache line apart.
    private let positions: UnsafeMutablePointer<Atomic<Int>>

    /// A ring of at least `frames` stereo frames.
    init(frames: Int) {
        var size = 1
        while size < frames { size <<= 1 }
        capacity = size
        mask = size - 1
        samples = .allocate(capacity: size * 2)
        samples.initialize(repeating: 0, count: size * 2)
        positions = .allocate(capacity: 16)
        for index in 0..<16 { (positions + index).initialize(to: Atomic(0)) }
    }

    /// Frees the memory; call once neither side uses the ring any more.
    func deallocate() {
        samples.deallocate()
        positions.deallocate()
    }

    /// Frames waiting to be read.
    @inline(__always) var readable: Int {
        positions[0].load(ordering: .acquiring) - positions[8].load(ordering: .relaxed)
    }

    /// Room for frames, as the producer sees it.
    @inline(__always) var writable: Int {
        capacity - (positions[0].load(ordering: .relaxed) - positions[8].load(ordering: .acquiring))
    }

    // MARK: - The audio thread's side

    /// Appends up to `frames` frames of two channel buffers; returns how many fitted.
    @inline(__always) func push(left: UnsafePointer<Float>, right: UnsafePointer<Float>, frames: Int) -> Int {
        let start = positions[0].load(ordering: .relaxed)
        let count = min(frames, writable)
        for frame in 0..<count {
            let slot = ((start + frame) & mask) * 2
            samples[slot] = left[frame]
            samples[slot + 1] = right[frame]
        }
        positions[0].store(start + count, ordering: .releasing)
        return count
    }

    /// Takes up to `frames` frames into two channel buffers; returns how many there were.
    @inline(__always) func pop(
        left: UnsafeMutablePointer<Float>,
        right: UnsafeMutablePointer<Float>,
        frames: Int
    ) -> Int {
        let start = positions[8].load(ordering: .relaxed)
        let count = min(frames, readable)
        for frame in 0..<count {
            let slot = ((start + frame) & mask) * 2
            left[frame] = samples[slot]
            right[frame] = samples[slot + 1]
        }
        positions[8].store(start + count, ordering: .releasing)
        return count
    }

    // MARK: - The thread's side

    /// Appends up to `frames` interleaved frames; returns how many fitted.
    func write(_ interleaved: UnsafePointer<Float>, frames: Int) -> Int {
        let start = positions[0].load(ordering: .relaxed)
        let count = min(frames, writable)
        for frame in 0..<count {
            let slot = ((start + frame) & mask) * 2
            samples[slot] = interleaved[frame * 2]
            samples[slot + 1] = interleaved[frame * 2 + 1]
        }
        positions[0].store(start + count, ordering: .releasing)
        return count
    }

    /// Takes up to `frames` interleaved frames; returns how many there were.
    func read(into interleaved: UnsafeMutablePointer<Float>, frames: Int) -> Int {
        let start = positions[8].load(ordering: .relaxed)
        let count = min(frames, readable)
        for frame in 0..<count {
            let slot = ((start + frame) & mask) * 2
            interleaved[frame * 2] = samples[slot]
            interleaved[frame * 2 + 1] = samples[slot + 1]
        }
        positions[8].store(start + count, ordering: .releasing)
        return count
    }
}
