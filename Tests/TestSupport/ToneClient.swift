import Foundation
public import Jack
import Synchronization

/// A JACK client playing a sine, and another measuring what comes back: real sound in and out.
///
/// Each cycle's level is kept in a ring, so a test can see in which cycle a change arrived.
// The pointers are shared with the audio thread only through atomics.
public final class ToneClient: @unchecked Sendable {
    public let source: JackClient
    public let meter: JackClient
    private let state: UnsafeMutablePointer<ToneState>

    /// Starts a `frequency` Hz sine at `amplitude` (peak) on `tone:out`; `meter:in` measures.
    public init(server: String, frequency: Double = 1000, amplitude: Float = 0.1) throws {
        source = try JackClient(name: "tone", server: server)
        meter = try JackClient(name: "meter", server: server)
        state = .allocate(capacity: 1)
        state.initialize(
            to: ToneState(
                output: try source.registerPort("out", type: .audio, direction: .output),
                input: try meter.registerPort("in", type: .audio, direction: .input),
                sine: SineOscillator(frequency: frequency, sampleRate: Double(source.sampleRate), amplitude: amplitude)
            )
        )
        try source.setProcessCallback(
            { frames, context in
                context?.assumingMemoryBound(to: ToneState.self).pointee.play(frames: frames)
                return 0
            },
            context: UnsafeMutableRawPointer(state)
        )
        try meter.setProcessCallback(
            { frames, context in
                context?.assumingMemoryBound(to: ToneState.self).pointee.measure(frames: frames)
                return 0
            },
            context: UnsafeMutableRawPointer(state)
        )
        try source.activate()
        try meter.activate()
    }

    deinit {
        try? source.deactivate()
        try? meter.deactivate()
        source.close()
        meter.close()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Cycles measured so far.
    public var cycles: Int { state.pointee.cycles.load(ordering: .acquiring) }

    /// The level of one measured cycle in dBFS, sine-referenced (a full-scale sine reads 0).
    public func level(ofCycle cycle: Int) -> Double {
        let rms = Float(bitPattern: state.pointee.levels[cycle % ToneState.ringSize].load(ordering: .acquiring))
        return 20 * log10(max(Double(rms) * 2.squareRoot(), 1e-12))
    }

    /// The median level of the next `count` cycles; throws when JACK stops running cycles.
    public func measure(cycles count: Int = 40) async throws -> Double {
        let start = cycles
        let deadline = ContinuousClock.now + .seconds(10)
        while cycles < start + count + 1 {
            guard ContinuousClock.now < deadline else { throw TestFailure("JACK ran no cycle for 10 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
        let levels = (start + 1...start + count).map(level(ofCycle:)).sorted()
        return levels[levels.count / 2]
    }
}

/// What the two callbacks share: plain values, and atomics for what the test reads.
struct ToneState: ~Copyable {
    static let ringSize = 1024
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

    mutating func play(frames: UInt32) {
        guard let buffer = output.buffer(frames: frames)?.assumingMemoryBound(to: Float.self) else { return }
        sine.fill(buffer, frames: frames)
    }

    func measure(frames: UInt32) {
        guard let buffer = input.buffer(frames: frames)?.assumingMemoryBound(to: Float.self) else { return }
        let rms = cycleRMS(buffer, frames: frames)
        let cycle = cycles.load(ordering: .relaxed) + 1
        levels[cycle % Self.ringSize].store(rms.bitPattern, ordering: .releasing)
        cycles.store(cycle, ordering: .releasing)
    }
}
