import Jack
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What the recorder's JACK process callback works on: its ports, the two rings and the flags,
/// allocated once per run and reached through one pointer, so the callback allocates nothing, locks
/// nothing and touches no reference count.
struct RecorderProcess: ~Copyable {
    let inputs: (JackPort, JackPort)
    let outputs: (JackPort, JackPort)
    /// Callback → writer thread: the board's output.
    let capture: SampleRing
    /// Reader thread → callback: the recording played back.
    let playback: SampleRing
    let capturing = Atomic<Bool>(false)
    let playing = Atomic<Bool>(false)
    /// Set by the reader thread once the whole file is in `playback`.
    let sourceDone = Atomic<Bool>(false)
    /// Set by the callback once `sourceDone` and `playback` is empty: the playback has been heard.
    let drained = Atomic<Bool>(false)
    /// Frames lost: a full capture ring, or a playback ring the reader did not keep filled.
    let dropped = Atomic<Int>(0)
    /// The callback's own cost, for the CPU report: cycles run, their total and longest time.
    let cycles = Atomic<Int>(0)
    let busyNanoseconds = Atomic<Int>(0)
    let longestNanoseconds = Atomic<Int>(0)

    init(inputs: (JackPort, JackPort), outputs: (JackPort, JackPort), captureFrames: Int, playbackFrames: Int) {
        self.inputs = inputs
        self.outputs = outputs
        capture = SampleRing(frames: captureFrames)
        playback = SampleRing(frames: playbackFrames)
    }

    deinit {
        capture.deallocate()
        playback.deallocate()
    }

    /// One JACK cycle: play what the ring holds (silence otherwise), record what the inputs hear.
    @inline(__always) func process(frames: UInt32) {
        let began = Self.now()
        let count = Int(frames)
        if let left = outputs.0.buffer(frames: frames)?.assumingMemoryBound(to: Float.self),
            let right = outputs.1.buffer(frames: frames)?.assumingMemoryBound(to: Float.self)
        {
            var played = 0
            if playing.load(ordering: .acquiring) {
                played = playback.pop(left: left, right: right, frames: count)
                if played < count {
                    if sourceDone.load(ordering: .acquiring) {
                        drained.store(true, ordering: .releasing)
                    } else {
                        dropped.add(count - played, ordering: .relaxed)
                    }
                }
            }
            if played < count {
                (left + played).update(repeating: 0, count: count - played)
                (right + played).update(repeating: 0, count: count - played)
            }
        }
        if capturing.load(ordering: .acquiring),
            let left = inputs.0.buffer(frames: frames)?.assumingMemoryBound(to: Float.self),
            let right = inputs.1.buffer(frames: frames)?.assumingMemoryBound(to: Float.self)
        {
            let pushed = capture.push(left: left, right: right, frames: count)
            if pushed < count { dropped.add(count - pushed, ordering: .relaxed) }
        }
        let spent = Self.now() - began
        cycles.add(1, ordering: .relaxed)
        busyNanoseconds.add(spent, ordering: .relaxed)
        if spent > longestNanoseconds.load(ordering: .relaxed) { longestNanoseconds.store(spent, ordering: .relaxed) }
    }

    /// CLOCK_MONOTONIC in nanoseconds: a vDSO read, no system call, safe in the callback.
    @inline(__always) static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

/// The recorder's process callback: the context is a `UnsafeMutablePointer<RecorderProcess>`.
let recorderProcessCallback: JackClient.ProcessCallback = { frames, context in
    context?.assumingMemoryBound(to: RecorderProcess.self).pointee.process(frames: frames)
    return 0
}
