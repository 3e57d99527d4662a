import Foundation
import Messaging
import Testing

@testable import SessionService

/// The recorder's parts that need no JACK: the ring across its wrap, and a WAV written then read.
@Suite struct RecordingFileTests {
    @Test func theRingKeepsOrderAcrossItsWrapAndRefusesWhatDoesNotFit() {
        let ring = SampleRing(frames: 100)
        defer { ring.deallocate() }
        #expect(ring.capacity == 128)
        let left = UnsafeMutablePointer<Float>.allocate(capacity: 96)
        let right = UnsafeMutablePointer<Float>.allocate(capacity: 96)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 192)
        defer {
            left.deallocate()
            right.deallocate()
            out.deallocate()
        }
        var next = 0
        var expected = 0
        for _ in 0..<20 {
            for frame in 0..<96 {
                left[frame] = Float(next + frame)
                right[frame] = -Float(next + frame)
            }
            let pushed = ring.push(left: left, right: right, frames: 96)
            #expect(pushed == min(96, 128 - (next - expected)))
            next += pushed
            let read = ring.read(into: out, frames: 80)
            for frame in 0..<read {
                #expect(out[frame * 2] == Float(expected + frame) && out[frame * 2 + 1] == -Float(expected + frame))
            }
            expected += read
        }
        #expect(ring.readable == next - expected)
    }

    @Test func aWAVIsHiddenUntilFinishedAndReadsBackAsWritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wav-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/recording.wav"
        try Data("a leftover".utf8).write(to: URL(fileURLWithPath: "\(folder)/.recording.wav.tmp"))
        let writer = try WAVWriter(path: path, sampleRate: 44100, chunkFrames: 1000)
        let samples = (0..<2000).map { Float($0 % 200 - 100) / 100 }
        try samples.withUnsafeBufferPointer { try writer.append($0.baseAddress!, frames: 1000) }
        #expect(!FileManager.default.fileExists(atPath: path))
        try writer.finish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["recording.wav"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 44 + 4000)

        let reader = try WAVReader(path: path)
        #expect(reader.sampleRate == 44100 && reader.channels == 2 && reader.frames == 1000)
        let back = UnsafeMutablePointer<Float>.allocate(capacity: 2000)
        defer { back.deallocate() }
        #expect(reader.read(into: back, frames: 1500) == 1000)
        for index in 0..<2000 { #expect(abs(back[index] - samples[index]) < 1.0 / 16000) }
        #expect(reader.read(into: back, frames: 10) == 0)
    }
}
