public import Foundation

/// A mono 48 kHz 16-bit WAV of a sine at half scale.
public func sineWAV(seconds: Double, frequency: Double) -> Data {
    let rate = 48000
    let frames = Int(seconds * Double(rate))
    var data = Data()
    func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }
    data.append(contentsOf: Array("RIFF".utf8))
    append(UInt32(36 + frames * 2))
    data.append(contentsOf: Array("WAVEfmt ".utf8))
    append(UInt32(16))
    append(UInt16(1))  // PCM
    append(UInt16(1))  // mono
    append(UInt32(rate))
    append(UInt32(rate * 2))
    append(UInt16(2))
    append(UInt16(16))
    data.append(contentsOf: Array("data".utf8))
    append(UInt32(frames * 2))
    for frame in 0..<frames {
        append(Int16(16383 * sin(2 * Double.pi * frequency * Double(frame) / Double(rate))))
    }
    return data
}
