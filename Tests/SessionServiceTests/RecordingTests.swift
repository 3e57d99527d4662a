import Foundation
import Jack
import Messaging
import SessionService
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `start_recording` and friends against a real jackd: a sine of the test's own JACK client wired to
/// `system:playback` is recorded by the session's recorder, downloaded, decoded and measured, then
/// played back and heard again.
@Suite struct RecordingTests {
    /// A 1 kHz sine at -12 dBFS peak.
    static let amplitude = Float(pow(10, -12.0 / 20))
    /// Its RMS level, dB re full scale.
    static let expectedRMS = 20 * log10(Double(amplitude) / 2.squareRoot())

    static func settings(server: String) -> RecordingSettings {
        var settings = RecordingSettings()
        settings.jackServer = server
        settings.clientName = "recorder-\(getpid())"
        return settings
    }

    @Test func recordsTheBoardsOutputDownloadsItAndPlaysItBack() async throws {
        try await withJackServer { server in
            let signal = try SignalClient(server: server.name, amplitude: Self.amplitude)
            try signal.client.connect(signal.output, "system:playback_1")
            try signal.client.connect(signal.output, "system:playback_2")
            let data = SessionHarness.makeDataDirectory()
            // What a power cut mid-recording leaves: removed, never shown.
            try FileManager.default.createDirectory(atPath: "\(data)/recordings", withIntermediateDirectories: true)
            try Data("half a recording".utf8).write(to: URL(fileURLWithPath: "\(data)/recordings/.recording.wav.tmp"))
            let session = try await SessionHarness.start(data: data, recording: Self.settings(server: server.name))

            let clock = ContinuousClock()
            let idleCPU = try await cpuSeconds(during: .seconds(1))
            // The recording's true span lies between the inner and outer spans of the two calls.
            let startSent = clock.now
            let started = try await session.call("start_recording")
            let startAnswered = clock.now
            #expect(started["sample_rate"] == 48000)
            #expect(started["sources"]?.arrayValue?.contains(.string(signal.output)) == true)
            try await session.fails("start_recording", [:], .recordingInProgress)
            try await session.fails("start_playback", [:], .recordingInProgress)
            try await session.fails("reset_recording", [:], .recordingInProgress)
            let writerBefore = threadNanoseconds(named: "recorder-writer")
            let recordingCPU = try await cpuSeconds(during: .seconds(1))
            let writerCPU = (threadNanoseconds(named: "recorder-writer") - writerBefore) / 1e6
            let stopSent = clock.now
            let stopped = try await session.call("stop_recording")
            let inner = (stopSent - startAnswered) / .seconds(1)
            let outer = (clock.now - startSent) / .seconds(1)
            #expect(stopped["stopped_by"] == "request")
            #expect(stopped["dropped_frames"] == 0)
            let meanMicroseconds = stopped["process_mean_us"]?.doubleValue ?? -1
            let maxMicroseconds = stopped["process_max_us"]?.doubleValue ?? -1
            print(
                "recorder CPU: process callback mean \(meanMicroseconds) µs, max \(maxMicroseconds) µs per "
                    + "256-frame cycle over \(stopped["process_cycles"] ?? .null) cycles; test process CPU "
                    + "\(idleCPU * 1000) ms/s idle, \(recordingCPU * 1000) ms/s recording; writer thread "
                    + "\(writerCPU) ms/s"
            )
            #expect(meanMicroseconds >= 0 && meanMicroseconds < 100)
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(data)/recordings") == ["recording.wav"])

            let download = try await session.call("download_recording")
            let bytes = try #require(Data(base64Encoded: download["audio"]?.stringValue ?? ""))
            let wav = try WAV(bytes)
            #expect(wav.sampleRate == 48000)
            #expect(wav.frames == stopped["frames"]?.intValue)
            let seconds = Double(wav.frames) / 48000
            #expect(
                seconds >= inner * 0.9 && seconds <= outer * 1.1,
                "recorded \(seconds) s between calls \(inner) s and \(outer) s apart"
            )
            for channel in 0..<2 {
                let level = wav.rmsDecibels(channel: channel)
                #expect(abs(level - Self.expectedRMS) <= 1, "channel \(channel): \(level) dB")
            }
            let crossings = wav.zeroCrossings(channel: 0)
            #expect(abs(crossings.perSecond - 2000) <= 100, "\(crossings.perSecond) zero crossings a second")

            // Played back into system:playback, beside (not instead of) what already feeds it.
            let recorder = try #require(started["client"]?.stringValue)
            let playedFrom = clock.now
            let playing = try await session.call("start_playback")
            #expect(abs((playing["duration_seconds"]?.doubleValue ?? 0) - seconds) < 0.01)
            let feeding = signal.client.connections(of: "system:playback_1")
            #expect(feeding.contains("\(recorder):out_1") && feeding.contains(signal.output), "\(feeding)")
            let firstCycle = signal.cycles
            try signal.client.connect("\(recorder):out_1", signal.input)
            let ended = try await session.call("wait_playback")
            let played = (clock.now - playedFrom) / .seconds(1)
            #expect(ended["stopped_by"] == "end")
            #expect(played >= seconds * 0.9 && played < seconds + 2, "played \(played) s of \(seconds) s")
            let heard = signal.levels(since: firstCycle).filter { $0 > 0.01 }.sorted()
            let heardSeconds = Double(heard.count * server.period) / 48000
            #expect(heardSeconds > seconds * 0.7, "heard \(heardSeconds) s of \(seconds) s")
            let median = 20 * log10(Double(heard.isEmpty ? 1e-6 : heard[heard.count / 2]))
            #expect(abs(median - Self.expectedRMS) <= 1, "played back at \(median) dB")
            #expect(!signal.client.hasPort("\(recorder):out_1"), "the player's client is closed after the end")
            #expect(try await session.call("stop_playback")["stopped_by"] == "end")

            #expect(try await session.call("reset_recording")["removed"] == true)
            #expect(!FileManager.default.fileExists(atPath: "\(data)/recordings/recording.wav"))
            try await session.fails("download_recording", [:], .notFound)
            #expect(try await session.call("reset_recording")["removed"] == false)
            await session.stop()
        }
    }

    @Test func stopsByItselfAtItsMaximumLengthAndAnnouncesIt() async throws {
        try await withJackServer { server in
            let signal = try SignalClient(server: server.name, amplitude: Self.amplitude)
            try signal.client.connect(signal.output, "system:playback_1")
            var settings = Self.settings(server: server.name)
            settings.maxLength = .milliseconds(500)
            let session = try await SessionHarness.start(recording: settings)
            try await session.fails("download_recording", [:], .notFound)
            try await session.fails("stop_recording", [:], .notRecording)
            try await session.fails("start_playback", [:], .notFound)
            #expect(try await session.call("wait_playback")["playing"] == false)

            let events = try await EventWatch.start(session)
            // Two starts at once: one records, the other is refused.
            async let first = session.client.call("start_recording")
            async let second = session.client.call("start_recording")
            let answers = try await [first, second]
            #expect(answers.filter { $0["success"] == true }.count == 1, "\(answers)")
            #expect(answers.contains { $0["code"] == .string(ErrorCode.recordingInProgress.rawValue) })
            let started = try await events.next("recording_started")
            #expect(started["max_seconds"] == 0.5)
            let stoppedEvent = try await events.next("recording_stopped")
            #expect(stoppedEvent["stopped_by"] == "max_length")
            let stopped = try await session.call("stop_recording")
            #expect(stopped["stopped_by"] == "max_length")
            #expect(stopped["frames"] == 24000)
            try await session.fails("stop_recording", [:], .notRecording)

            _ = try await session.call("start_playback")
            #expect(try await events.next("playback_started")["duration_seconds"] == 0.5)
            #expect(try await session.call("stop_playback")["stopped_by"] == "request")
            #expect(try await events.next("playback_stopped")["stopped_by"] == "request")

            // A recording at another rate than JACK's is refused, not played at the wrong pitch.
            let path = "\(session.data)/recordings/recording.wav"
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            withUnsafeBytes(of: UInt32(44100).littleEndian) { bytes.replaceSubrange(24..<28, with: $0) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try await session.fails("start_playback", [:], .audioError)
            await events.stop()
            await session.stop()
        }
    }

    @Test func stopsCleanlyWhenTheDiskFillsAndRefusesToStartOnAFullOne() async throws {
        try await withJackServer { server in
            let signal = try SignalClient(server: server.name, amplitude: Self.amplitude)
            try signal.client.connect(signal.output, "system:playback_1")
            let data = SessionHarness.makeDataDirectory()
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            // The threshold sits 64 MB under what is free now: a filler file of the test's crosses it.
            var settings = Self.settings(server: server.name)
            settings.minFreeBytes = try freeBytes(data) - (64 << 20)
            let session = try await SessionHarness.start(data: data, recording: settings)
            let events = try await EventWatch.start(session)
            _ = try await session.call("start_recording")
            #expect(FileManager.default.createFile(atPath: "\(data)/filler", contents: nil))
            let filler = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(data)/filler"))
            // Filled 16 MB at a time until the recording stops (its file appears), at most 256 MB.
            let block = Data(count: 16 << 20)
            let finished = "\(data)/recordings/recording.wav"
            for _ in 0..<16 where !FileManager.default.fileExists(atPath: finished) {
                try filler.write(contentsOf: block)
                try filler.synchronize()
                for _ in 0..<15 where !FileManager.default.fileExists(atPath: finished) {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try filler.close()
            let stoppedEvent = try await events.next("recording_stopped")
            #expect(stoppedEvent["stopped_by"] == "disk_space")
            #expect(stoppedEvent["code"] == .string(ErrorCode.storageError.rawValue))
            #expect(stoppedEvent["message"]?.stringValue?.contains("MB free") == true)
            let stopped = try await session.call("stop_recording")
            #expect(stopped["stopped_by"] == "disk_space")
            // What was recorded until then is kept, whole.
            let kept = try Data(contentsOf: URL(fileURLWithPath: "\(data)/recordings/recording.wav"))
            let wav = try WAV(kept)
            #expect(wav.frames == stopped["frames"]?.intValue && wav.frames > 0)

            let refused = try await session.fails("start_recording", [:], .storageError)
            #expect(refused["error"]?.stringValue?.contains("MB free") == true)
            try FileManager.default.removeItem(atPath: "\(data)/filler")
            await events.stop()
            await session.stop()
        }
    }

    @Test func followsNewSourcesAndEndsCleanlyWhenJackDies() async throws {
        try await withJackServer { server in
            let signal = try SignalClient(server: server.name, amplitude: Self.amplitude)
            let session = try await SessionHarness.start(recording: Self.settings(server: server.name))
            let events = try await EventWatch.start(session)
            let started = try await session.call("start_recording")
            #expect(started["sources"] == [])
            let recorder = try #require(started["client"]?.stringValue)
            // A source wired to the board's output after the start is recorded too.
            try signal.client.connect(signal.output, "system:playback_1")
            try await eventually(within: .seconds(5)) {
                guard signal.client.connections(of: "\(recorder):in_1").contains(signal.output) else {
                    throw TestFailure("\(signal.output) not followed")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            try await server.kill()
            let stoppedEvent = try await events.next("recording_stopped")
            #expect(stoppedEvent["stopped_by"] == "jack_stopped")
            let stopped = try await session.call("stop_recording")
            #expect(stopped["stopped_by"] == "jack_stopped")
            let kept = try Data(contentsOf: URL(fileURLWithPath: "\(session.data)/recordings/recording.wav"))
            let wav = try WAV(kept)
            #expect(wav.frames == stopped["frames"]?.intValue && wav.frames > 0)
            #expect(abs(wav.peak(channel: 0) - Double(Self.amplitude)) < 0.01, "the followed source was recorded")

            let clock = ContinuousClock()
            let began = clock.now
            try await session.fails("start_recording", [:], .audioUnavailable)
            try await session.fails("start_playback", [:], .audioUnavailable)
            #expect(clock.now - began < .seconds(5))
            await events.stop()
            await session.stop()
        }
    }

    @Test func refusesClearlyWithoutJackAndForTooLargeADownload() async throws {
        try await withJackAlone {
            var settings = RecordingSettings()
            settings.jackServer = "marlise-nowhere-\(getpid())"
            settings.maxDownloadBytes = 1 << 20
            let session = try await SessionHarness.start(recording: settings)
            let clock = ContinuousClock()
            let began = clock.now
            let refused = try await session.fails("start_recording", [:], .audioUnavailable)
            #expect(clock.now - began < .seconds(5))
            #expect(refused["error"]?.stringValue?.contains("JACK") == true)

            try FileManager.default.createDirectory(
                atPath: "\(session.data)/recordings",
                withIntermediateDirectories: true
            )
            try Data(count: 2 << 20).write(to: URL(fileURLWithPath: "\(session.data)/recordings/recording.wav"))
            try await session.fails("download_recording", [:], .messageTooLarge)
            try await session.fails("start_playback", [:], .storageError)
            await session.stop()
        }
    }

    /// The bytes free to us on `path`'s file system.
    private func freeBytes(_ path: String) throws -> Int {
        var facts = statvfs()
        guard statvfs(path, &facts) == 0 else { throw TestFailure("statvfs \(path) failed") }
        return Int(facts.f_bavail) * Int(facts.f_frsize)
    }

    /// Nanoseconds on a CPU of this process's threads of that name (`/proc/self/task/<tid>/schedstat`).
    private func threadNanoseconds(named name: String) -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var total = 0.0
        for task in tasks {
            let comm = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
            guard comm.trimmingCharacters(in: .whitespacesAndNewlines) == name,
                let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8),
                let first = stat.split(separator: " ").first, let value = Double(first)
            else { continue }
            total += value
        }
        return total
    }

    /// CPU seconds this process spent (user + system) during `duration`.
    private func cpuSeconds(during duration: Duration) async throws -> Double {
        func now() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        }
        let before = now()
        try await Task.sleep(for: duration)
        return (now() - before) / (duration / .seconds(1))
    }
}

/// The session's events, each wait bounded.
private struct EventWatch {
    let subscriber: Subscriber
    let iterator: Iterator

    final class Iterator: @unchecked Sendable {  // Used by one test task at a time.
        var base: AsyncStream<[Data]>.Iterator
        init(_ base: AsyncStream<[Data]>.Iterator) { self.base = base }
    }

    static func start(_ session: SessionHarness) async throws -> EventWatch {
        let subscriber = try await Subscriber.start(connectingTo: [session.server.events.endpoint])
        let iterator = Iterator(subscriber.messages.makeAsyncIterator())
        // Subscriptions reach a publisher asynchronously: publish a marker until one comes through.
        let events = session.server.events
        let syncing = Task {
            while !Task.isCancelled {
                events.publish("sync", data: nil)
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        _ = await iterator.base.next()
        syncing.cancel()
        return EventWatch(subscriber: subscriber, iterator: iterator)
    }

    /// The data of the next `name` event, within 10 s.
    func next(_ name: String) async throws -> JSONValue {
        let iterator = self.iterator
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask {
                while let frames = await iterator.base.next() {
                    if let event = EventEnvelope(frames: frames), event.eventType == name { return event.data }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw TestFailure("no \(name) event within 10 s") }
            return first
        }
    }

    func stop() async { await subscriber.shutdown() }
}

/// A downloaded recording, its header checked field by field.
private struct WAV {
    let sampleRate: Int
    let frames: Int
    let samples: [Int16]

    init(_ bytes: Data) throws {
        let raw = [UInt8](bytes)
        guard raw.count >= 44 else { throw TestFailure("\(raw.count) bytes: no WAV header") }
        func text(_ at: Int) -> String { String(decoding: raw[at..<at + 4], as: UTF8.self) }
        func u16(_ at: Int) -> Int { Int(raw[at]) | Int(raw[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        #expect(text(0) == "RIFF" && text(8) == "WAVE" && text(12) == "fmt " && text(36) == "data")
        #expect(u32(4) == raw.count - 8)
        #expect(u32(16) == 16)
        #expect(u16(20) == 1, "PCM")
        #expect(u16(22) == 2, "stereo")
        sampleRate = u32(24)
        #expect(u32(28) == sampleRate * 4)
        #expect(u16(32) == 4)
        #expect(u16(34) == 16)
        #expect(u32(40) == raw.count - 44)
        frames = (raw.count - 44) / 4
        samples = (0..<frames * 2).map { Int16(truncatingIfNeeded: u16(44 + $0 * 2)) }
    }

    /// The middle 80% of one channel: the edges hold the wiring's first and last cycles.
    private func middle(channel: Int) -> [Double] {
        (frames / 10..<frames * 9 / 10).map { Double(samples[$0 * 2 + channel]) / 32768 }
    }

    func rmsDecibels(channel: Int) -> Double {
        let values = middle(channel: channel)
        let mean = values.reduce(0) { $0 + $1 * $1 } / Double(max(values.count, 1))
        return 10 * log10(max(mean, 1e-12))
    }

    func peak(channel: Int) -> Double {
        (0..<frames).map { abs(Double(samples[$0 * 2 + channel]) / 32768) }.max() ?? 0
    }

    func zeroCrossings(channel: Int) -> (count: Int, perSecond: Double) {
        let values = middle(channel: channel)
        let count = zip(values, values.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        return (count, Double(count) / (Double(values.count) / Double(sampleRate)))
    }
}
