import Foundation
import Jack
import Synchronization
import TestSupport

/// A JACK client of the test: `out` plays a sine (to be wired to `system:playback`, where the
/// recorder takes it), `in` measures what reaches it, cycle by cycle.
final class SignalClient: @unchecked Sendable {  // `state` is shared with the audio thread through atomics only.
    let client: JackClient
    private let state: UnsafeMutablePointer<SignalState>

    init(server: String, frequency: Double = 1000, amplitude: Float) throws {
        client = try JackClient(name: "signal-\(getpid())", server: server)
        state = .allocate(capacity: 1)
        state.initialize(
            to: SignalState(
                output: try client.registerPort("out", type: .audio, direction: .output),
                input: try client.registerPort("in", type: .audio, direction: .input),
                sine: SineOscillator(frequency: frequency, sampleRate: Double(client.sampleRate), amplitude: amplitude)
            )
        )
        try client.setProcessCallback(
            { frames, context in
                context?.assumingMemoryBound(to: SignalState.self).pointee.process(frames: frames)
                return 0
            },
            context: UnsafeMutableRawPointer(state)
        )
        try client.activate()
    }

    deinit {
        // libjack crashes deactivating a client whose server is gone.
        if !client.isShutDown { try? client.deactivate() }
        client.close()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    var output: String { "\(client.name):out" }
    var input: String { "\(client.name):in" }

    /// Cycles run so far.
    var cycles: Int { state.pointee.cycles.load(ordering: .acquiring) }

    /// The RMS of what `in` heard in one cycle (of the last ``SignalState/ringSize``).
    func rms(ofCycle cycle: Int) -> Float {
        Float(bitPattern: state.pointee.levels[cycle % SignalState.ringSize].load(ordering: .acquiring))
    }

    /// The RMS levels of the cycles from `first` up to now.
    func levels(since first: Int) -> [Float] {
        let last = cycles
        return (max(first, last - SignalState.ringSize + 1)...max(first, last)).map(rms(ofCycle:))
    }
}

/// What the callback works on: plain values, and atomics for what the test reads.
struct SignalState: ~Copyable {
    static let ringSize = 4096
    let output: JackPort
    let input: JackPort
    var sine: SineOscillator
    let levels: UnsafeMutablePointer<Atomic<UInt32>>
    let cycles = Atomic<Int>(0)

    init(output: JackPort, input: JackPort, sine: SineOscillator) {
        self.output = output
        self.input = input
        self.sine = sine
        levels = .allocate(capacity: Self.ringSize)
        for index in 0..<Self.ringSize { (levels + index).initialize(to: Atomic(0)) }
    }

    deinit { levels.deallocate() }

    mutating func process(frames: UInt32) {
        if let buffer = output.buffer(frames: frames)?.assumingMemoryBound(to: Float.self) {
            sine.fill(buffer, frames: frames)
        }
        guard let buffer = input.buffer(frames: frames)?.assumingMemoryBound(to: Float.self) else { return }
        let cycle = cycles.load(ordering: .relaxed) + 1
        levels[cycle % Self.ringSize].store(cycleRMS(buffer, frames: frames).bitPattern, ordering: .releasing)
        cycles.store(cycle, ordering: .releasing)
    }
}
