import Foundation

/// A sine written into audio buffers cycle after cycle, its phase carried over: what the test
/// clients play (plain values only, for a JACK process callback).
public struct SineOscillator {
    let step: Double
    let amplitude: Float
    var phase = 0.0

    public init(frequency: Double, sampleRate: Double, amplitude: Float) {
        step = 2 * Double.pi * frequency / sampleRate
        self.amplitude = amplitude
    }

    public mutating func fill(_ buffer: UnsafeMutablePointer<Float>, frames: UInt32) {
        for frame in 0..<Int(frames) {
            buffer[frame] = amplitude * Float(sin(phase))
            phase += step
            if phase > 2 * Double.pi { phase -= 2 * Double.pi }
        }
    }
}

/// The RMS of one cycle's buffer: what the test clients measure.
public func cycleRMS(_ buffer: UnsafeMutablePointer<Float>, frames: UInt32) -> Float {
    var sum: Float = 0
    for frame in 0..<Int(frames) { sum += buffer[frame] * buffer[frame] }
    return (sum / Float(max(frames, 1))).squareRoot()
}
