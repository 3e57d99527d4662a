import Foundation
import Messaging
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// A stereo 16-bit PCM WAV file written as samples arrive, into a hidden temporary file that takes
/// its final name only once complete: header fixed, data fsynced, renamed, folder fsynced. A reader
/// (a download, a playback) sees the previous recording or the new one, never half of one.
///
/// 16-bit rather than float: half the size on a small box's card and in a download, and every
/// player reads it.
final class WAVWriter: @unchecked Sendable {  // Used by one thread at a time, handed over once.
    static let headerBytes = 44
    static let bytesPerFrame = 4

    let path: String
    let temporary: String
    let sampleRate: Int
    private var fd: Int32
    private(set) var frames = 0
    /// Conversion space for one ``append(_:frames:)``, allocated once.
    private let scratch: UnsafeMutablePointer<Int16>
    private let scratchFrames: Int

    /// Starts `path`'s temporary sibling, replacing any a crash left there.
    init(path: String, sampleRate: Int, chunkFrames: Int) throws(RPCError) {
        self.path = path
        self.sampleRate = sampleRate
        let url = path as NSString
        temporary = url.deletingLastPathComponent + "/." + url.lastPathComponent + ".tmp"
        unlink(temporary)
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RPCError(.storageError, "cannot create \(temporary): \(errnoText())") }
        scratchFrames = chunkFrames
        scratch = .allocate(capacity: chunkFrames * 2)
        do {
            try write(Self.header(sampleRate: sampleRate, frames: 0))
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        scratch.deallocate()
        abandon()
    }

    /// Converts and writes `count` interleaved frames (at most the chunk size given at init).
    func append(_ interleaved: UnsafePointer<Float>, frames count: Int) throws(RPCError) {
        let count = min(count, scratchFrames)
        for index in 0..<(count * 2) {
            let sample = max(-1, min(1, interleaved[index]))
            scratch[index] = Int16((sample * 32767).rounded())
        }
        try write(UnsafeRawBufferPointer(start: scratch, count: count * Self.bytesPerFrame))
        frames += count
    }

    /// Fixes the header's sizes, fsyncs, and renames the file into place.
    func finish() throws(RPCError) {
        let header = Self.header(sampleRate: sampleRate, frames: frames)
        let written = header.withUnsafeBytes { bytes in
            retryingOnInterrupt { pwrite(fd, bytes.baseAddress, bytes.count, 0) }
        }
        guard written == header.count, fsync(fd) == 0 else {
            let reason = errnoText()
            abandon()
            throw RPCError(.storageError, "cannot finish \(temporary): \(reason)")
        }
        close(fd)
        fd = -1
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw RPCError(.storageError, "cannot rename \(temporary) to \(path): \(reason)")
        }
        DurableFile.syncFolder((path as NSString).deletingLastPathComponent)
    }

    /// Closes and removes the temporary file, if still open.
    func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
    }

    private func write(_ bytes: [UInt8]) throws(RPCError) {
        let result = bytes.withUnsafeBytes { buffer -> Result<Void, RPCError> in
            do throws(RPCError) { return .success(try write(buffer)) } catch { return .failure(error) }
        }
        try result.get()
    }

    private func write(_ buffer: UnsafeRawBufferPointer) throws(RPCError) {
        var offset = 0
        while offset < buffer.count {
            let written = retryingOnInterrupt { Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            guard written > 0 else {
                throw RPCError(.storageError, "cannot write \(temporary): \(errnoText())")
            }
            offset += written
        }
    }

    /// The 44-byte RIFF header of a stereo 16-bit PCM file of `frames` frames.
    static func header(sampleRate: Int, frames: Int) -> [UInt8] {
        let dataBytes = UInt32(clamping: frames * bytesPerFrame)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerBytes)
        func text(_ value: String) { bytes.append(contentsOf: Array(value.utf8)) }
        func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        text("RIFF")
        u32(36 &+ dataBytes)
        text("WAVE")
        text("fmt ")
        u32(16)
        u16(1)  // PCM
        u16(2)  // channels
        u32(UInt32(sampleRate))
        u32(UInt32(sampleRate * bytesPerFrame))
        u16(UInt16(bytesPerFrame))
        u16(16)  // bits per sample
        text("data")
        u32(dataBytes)
        return bytes
    }
}
