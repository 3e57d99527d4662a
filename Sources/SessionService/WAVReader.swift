import Foundation
import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// Reads a WAV recording back as interleaved stereo floats, a chunk at a time, for playback: 16-bit
/// PCM (what ``WAVWriter`` writes) or 32-bit float, mono or stereo.
final class WAVReader: @unchecked Sendable {  // Used by one thread at a time, handed over once.
    let sampleRate: Int
    let channels: Int
    let frames: Int
    private let isFloat: Bool
    private let handle: FileHandle
    private var remaining: Int

    init(path: String) throws(RPCError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RPCError(.notFound, "There is no recording")
        }
        self.handle = handle
        func fail(_ reason: String) -> RPCError {
            RPCError(.storageError, "\(path) is not a WAV file we play: \(reason)")
        }
        guard let riff = try? handle.read(upToCount: 12), riff.count == 12,
            riff.prefix(4) == Data("RIFF".utf8), riff.suffix(4) == Data("WAVE".utf8)
        else { throw fail("no RIFF/WAVE header") }
        var format: (tag: Int, channels: Int, rate: Int, bits: Int)?
        while true {
            guard let chunk = try? handle.read(upToCount: 8), chunk.count == 8 else { throw fail("no data chunk") }
            let id = String(decoding: chunk.prefix(4), as: UTF8.self)
            let size = Int(Self.u32(chunk, 4))
            if id == "data" {
                guard let format else { throw fail("data before fmt") }
                guard format.tag == 1 && format.bits == 16 || format.tag == 3 && format.bits == 32,
                    (1...2).contains(format.channels), format.rate > 0
                else { throw fail("format \(format.tag), \(format.bits) bits, \(format.channels) channels") }
                sampleRate = format.rate
                channels = format.channels
                isFloat = format.tag == 3
                frames = size / (channels * format.bits / 8)
                remaining = frames
                return
            }
            guard let body = try? handle.read(upToCount: size + size % 2), body.count >= min(size, 16) else {
                throw fail("truncated \(id) chunk")
            }
            if id == "fmt " {
                guard size >= 16 else { throw fail("short fmt chunk") }
                format = (
                    Int(Self.u16(body, 0)), Int(Self.u16(body, 2)), Int(Self.u32(body, 4)), Int(Self.u16(body, 14))
                )
            }
        }
    }

    deinit { try? handle.close() }

    /// Reads up to `count` frames as interleaved stereo into `interleaved`; 0 at the end.
    func read(into interleaved: UnsafeMutablePointer<Float>, frames count: Int) -> Int {
        let wanted = min(count, remaining)
        let frameBytes = channels * (isFloat ? 4 : 2)
        guard wanted > 0, let data = try? handle.read(upToCount: wanted * frameBytes) else { return 0 }
        let got = data.count / frameBytes
        data.withUnsafeBytes { raw in
            for frame in 0..<got {
                for channel in 0..<2 {
                    let source = frame * channels + min(channel, channels - 1)
                    interleaved[frame * 2 + channel] =
                        isFloat
                        ? Float(
                            bitPattern: UInt32(
                                littleEndian: raw.loadUnaligned(fromByteOffset: source * 4, as: UInt32.self)
                            )
                        )
                        : Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: source * 2, as: Int16.self)))
                            / 32768
                }
            }
        }
        remaining = got < wanted ? 0 : remaining - got
        return got
    }

    private static func u16(_ data: Data, _ offset: Int) -> UInt16 {
        let start = data.startIndex + offset
        return UInt16(data[start]) | UInt16(data[start + 1]) << 8
    }

    private static func u32(_ data: Data, _ offset: Int) -> UInt32 {
        UInt32(u16(data, offset)) | UInt32(u16(data, offset + 2)) << 16
    }
}
