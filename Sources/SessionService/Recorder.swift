import Foundation
import Locking
public import Messaging

#if canImport(Glibc)
import Glibc
#endif

extension ErrorCode {
    /// A recording is under way: a second one, a playback or a reset must wait for its end.
    public static let recordingInProgress = ErrorCode(rawValue: "RECORDING_IN_PROGRESS")
    /// `stop_recording` with no recording to stop.
    public static let notRecording = ErrorCode(rawValue: "NOT_RECORDING")
}

/// The board's output recorded to `<data>/recordings/recording.wav`, one recording at a time, and
/// played back into `system:playback_1/2` on request.
///
/// Every operation but ``waitPlayback(timeout:)`` blocks (JACK calls, a file's fsync), each for a
/// bounded time: callers run them off Swift's cooperative pool. They run one at a time.
final class Recorder: Sendable {
    let settings: RecordingSettings
    let folder: String
    var path: String { "\(folder)/recording.wav" }
    private let announce: @Sendable (String, JSONValue) -> Void
    /// Held for the whole of each start, stop or reset.
    private let control = NSLock()
    private let runs = Locked<Runs>(Runs())

    private struct Runs {
        var recording: RecorderRun?
        /// Whether `stop_recording` has answered for `recording` since it ended.
        var reported = true
        var playback: RecorderRun?
    }

    init(
        dataDirectory: String,
        settings: RecordingSettings,
        announce: @escaping @Sendable (String, JSONValue) -> Void
    ) {
        self.settings = settings
        folder = (dataDirectory as NSString).appendingPathComponent("recordings")
        self.announce = announce
        // A recording cut short by a crash or power cut is a hidden file nobody will finish.
        unlink("\(folder)/.recording.wav.tmp")
    }

    private var isRecording: Bool { runs.withLock { $0.recording.map { !$0.isFinished } ?? false } }

    // MARK: - Recording

    /// Records what feeds `system:playback_1/2` now (and what is wired to them later), stopping a
    /// playback first: the recorder would hear itself.
    func startRecording() throws(RPCError) -> JSONValue {
        try exclusive { () throws(RPCError) in
            if isRecording { throw RPCError(.recordingInProgress, "A recording is already under way") }
            try stopPlaybackRun()
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw RPCError(.storageError, "cannot create \(folder): \(error.localizedDescription)")
            }
            if let low = lowDiskSpace() { throw RPCError(.storageError, low) }
            let run = try RecorderRun(kind: .recording, settings: settings)
            let writer: WAVWriter
            do throws(RPCError) {
                writer = try WAVWriter(path: path, sampleRate: run.sampleRate, chunkFrames: RecorderRun.chunkFrames)
            } catch {
                run.cancel()
                throw error
            }
            let byLength = Int(Double(run.sampleRate) * (settings.maxLength / .seconds(1)))
            let bySize = (settings.maxDownloadBytes - WAVWriter.headerBytes) / WAVWriter.bytesPerFrame
            let maxFrames = max(1, min(byLength, bySize))
            let rate = run.sampleRate
            let sources = try run.startRecording(
                writer: writer,
                maxFrames: maxFrames,
                diskCheck: { [self] in lowDiskSpace() },
                finished: { [announce] outcome in
                    announce("recording_stopped", Self.describe(outcome, sampleRate: rate))
                }
            )
            runs.withLock {
                $0.recording = run
                $0.reported = false
            }
            let info: JSONValue = [
                "recording": true, "sample_rate": .int(rate), "channels": 2, "bits_per_sample": 16,
                "max_seconds": .double(Double(maxFrames) / Double(rate)), "client": .string(run.client.name),
                "sources": .array(sources.map { .string($0) }),
            ]
            announce("recording_started", info)
            return info
        }
    }

    /// Stops the recording and answers its facts; or answers those of a recording that stopped by
    /// itself (length, disk, JACK) since the last call.
    func stopRecording() throws(RPCError) -> JSONValue {
        try exclusive { () throws(RPCError) in
            let (run, reported) = runs.withLock { ($0.recording, $0.reported) }
            guard let run, !reported else { throw RPCError(.notRecording, "No recording is under way") }
            run.requestStop()
            guard let outcome = run.finished(within: .seconds(10)) else {
                throw RPCError(.timeout, "The recording did not finish writing within 10 s")
            }
            runs.withLock { $0.reported = true }
            if let error = outcome.error { throw error }
            return Self.describe(outcome, sampleRate: run.sampleRate)
        }
    }

    // MARK: - Playback

    func startPlayback() throws(RPCError) -> JSONValue {
        try exclusive { () throws(RPCError) in
            if isRecording { throw RPCError(.recordingInProgress, "A recording is under way") }
            try stopPlaybackRun()
            let reader = try WAVReader(path: path)
            let run = try RecorderRun(kind: .playback, settings: settings)
            let rate = reader.sampleRate
            // Played at another rate it would be heard at another pitch: said, not done.
            guard run.sampleRate == rate else {
                run.cancel()
                throw RPCError(.audioError, "The recording is at \(rate) Hz and JACK runs at \(run.sampleRate) Hz")
            }
            try run.startPlayback(reader: reader) { [announce] outcome in
                announce("playback_stopped", Self.describe(outcome, sampleRate: rate))
            }
            runs.withLock { $0.playback = run }
            let info: JSONValue = [
                "playing": true, "sample_rate": .int(rate),
                "duration_seconds": .double(Double(reader.frames) / Double(rate)),
            ]
            announce("playback_started", info)
            return info
        }
    }

    /// Waits, up to `timeout` (at most ``RecordingSettings/maxWait``), for the playback to end.
    func waitPlayback(timeout: Duration?) async throws(RPCError) -> JSONValue {
        let limit = min(timeout ?? settings.maxWait, settings.maxWait)
        guard let run = runs.withLock({ $0.playback }) else { return ["playing": false] }
        guard let outcome = await run.waitFinished(within: limit) else {
            throw RPCError(.timeout, "The playback is still going after \(limit)")
        }
        return Self.describe(outcome, sampleRate: run.sampleRate)
    }

    /// Stops the playback; success too when it had ended already.
    func stopPlayback() throws(RPCError) -> JSONValue {
        try exclusive { () throws(RPCError) in
            guard let run = runs.withLock({ $0.playback }) else { return ["playing": false] }
            try stopPlaybackRun()
            return run.outcome.map { Self.describe($0, sampleRate: run.sampleRate) } ?? ["playing": false]
        }
    }

    private func stopPlaybackRun() throws(RPCError) {
        guard let run = runs.withLock({ $0.playback }), !run.isFinished else { return }
        run.requestStop()
        guard run.finished(within: .seconds(5)) != nil else {
            throw RPCError(.timeout, "The playback did not stop within 5 s")
        }
    }

    // MARK: - The file

    /// The recording as base64 WAV, when there is one small enough to send in one reply.
    func download() throws(RPCError) -> JSONValue {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw RPCError(.notFound, "There is no recording") }
        guard size <= settings.maxDownloadBytes else {
            throw RPCError(
                .messageTooLarge,
                "The recording is \(size) bytes, more than the \(settings.maxDownloadBytes) a download sends"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RPCError(.notFound, "There is no recording")
        }
        let reader = try? WAVReader(path: path)
        return [
            "audio": .string(data.base64EncodedString()), "filename": "recording.wav", "content_type": "audio/wav",
            "bytes": .int(data.count), "sample_rate": .int(reader?.sampleRate ?? 0),
            "duration_seconds": .double(reader.map { Double($0.frames) / Double(max($0.sampleRate, 1)) } ?? 0),
        ]
    }

    /// Removes the recording (stopping its playback); refused while recording.
    func reset() throws(RPCError) -> JSONValue {
        try exclusive { () throws(RPCError) in
            if isRecording { throw RPCError(.recordingInProgress, "A recording is under way: stop it first") }
            try stopPlaybackRun()
            let removed = unlink(path) == 0
            unlink("\(folder)/.recording.wav.tmp")
            if removed { DurableFile.syncFolder(folder) }
            runs.withLock {
                $0.recording = nil
                $0.reported = true
                $0.playback = nil
            }
            return ["removed": .bool(removed)]
        }
    }

    /// Stops whatever runs, keeping what was recorded.
    func shutdown() {
        control.withLock {
            let (recording, playback) = runs.withLock { ($0.recording, $0.playback) }
            for run in [recording, playback].compactMap(\.self) where !run.isFinished {
                run.requestStop()
                _ = run.finished(within: .seconds(5))
            }
        }
    }

    // MARK: - Helpers

    private func exclusive<T>(_ body: () throws(RPCError) -> T) throws(RPCError) -> T {
        control.lock()
        defer { control.unlock() }
        return try body()
    }

    /// Why recording cannot go on for lack of space, or nil.
    private func lowDiskSpace() -> String? {
        var facts = statvfs()
        guard statvfs(folder, &facts) == 0 else { return nil }
        let free = Int(facts.f_bavail) * Int(facts.f_frsize)
        guard free < settings.minFreeBytes else { return nil }
        return
            "Only \(free >> 20) MB free where recordings are kept (at least \(settings.minFreeBytes >> 20) MB needed)"
    }

    /// A finished run on the wire: its length, why it stopped, and the process callback's cost.
    static func describe(_ outcome: RecorderRun.Outcome, sampleRate: Int) -> JSONValue {
        var members: [String: JSONValue] = [
            "recording": false, "playing": false, "stopped_by": .string(outcome.reason.rawValue),
            "frames": .int(outcome.frames), "sample_rate": .int(sampleRate),
            "duration_seconds": .double(Double(outcome.frames) / Double(max(sampleRate, 1))),
            "dropped_frames": .int(outcome.dropped),
            "process_cycles": .int(outcome.cycles),
            "process_mean_us": .double(Double(outcome.busyNanoseconds) / Double(max(outcome.cycles, 1)) / 1000),
            "process_max_us": .double(Double(outcome.longestNanoseconds) / 1000),
        ]
        if let message = outcome.message { members["message"] = .string(message) }
        if let error = outcome.error {
            members["code"] = .string(error.code.rawValue)
        } else if outcome.reason == .diskSpace {
            members["code"] = .string(ErrorCode.storageError.rawValue)
        }
        return .object(members)
    }
}
