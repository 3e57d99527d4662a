import Foundation
import Jack
import Locking
import Messaging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One recording or one playback: a JACK client of its own (opened for the run, closed after, so
/// its rings are freed only once the callback can no longer run), the state the callback shares,
/// and the thread that drains the capture ring into the file or fills the playback ring from it.
///
/// The thread owns the end: whoever stops a run (a request, the length limit, the disk, JACK going
/// away, the end of the file) only asks, and the thread finishes the file and tears down.
final class RecorderRun: @unchecked Sendable {  // `shared` is touched by the callback and the thread only.
    enum Kind: String, Sendable { case recording, playback }

    /// Why a run ended, on the wire as `stopped_by`.
    enum StopReason: String, Sendable {
        case request
        case maxLength = "max_length"
        case diskSpace = "disk_space"
        case jackStopped = "jack_stopped"
        case writeFailed = "write_failed"
        case end
    }

    struct Outcome: Sendable {
        var reason: StopReason
        var frames: Int
        var message: String?
        var error: RPCError?
        var dropped: Int
        var cycles: Int
        var busyNanoseconds: Int
        var longestNanoseconds: Int
    }

    static let chunkFrames = 4096

    let kind: Kind
    let client: JackClient
    let sampleRate: Int
    let shared: UnsafeMutablePointer<RecorderProcess>
    private let stopRequested = Atomic<Bool>(false)
    private let result = Locked<Outcome?>(nil)

    /// Opens the client with its two inputs and two outputs and activates it, idle.
    init(kind: Kind, settings: RecordingSettings) throws(RPCError) {
        self.kind = kind
        do {
            client = try JackClient(name: settings.clientName, server: settings.jackServer)
        } catch {
            throw RPCError(.audioUnavailable, "JACK is not running or refused the recorder: \(error)")
        }
        sampleRate = Int(client.sampleRate)
        do {
            let inputs = (
                try client.registerPort("in_1", type: .audio, direction: .input),
                try client.registerPort("in_2", type: .audio, direction: .input)
            )
            let outputs = (
                try client.registerPort("out_1", type: .audio, direction: .output),
                try client.registerPort("out_2", type: .audio, direction: .output)
            )
            shared = .allocate(capacity: 1)
            // About 5 s of capture at 48 kHz: room for a slow card's stall; 1.4 s ahead for playback.
            shared.initialize(
                to: RecorderProcess(
                    inputs: inputs,
                    outputs: outputs,
                    captureFrames: kind == .recording ? 1 << 18 : 1024,
                    playbackFrames: kind == .playback ? 1 << 16 : 1024
                )
            )
        } catch {
            client.close()
            throw RPCError(.audioError, "cannot register the recorder's ports: \(error)")
        }
        do {
            try client.setProcessCallback(recorderProcessCallback, context: UnsafeMutableRawPointer(shared))
            try client.activate()
        } catch {
            client.close()
            shared.deinitialize(count: 1)
            shared.deallocate()
            throw RPCError(.audioError, "cannot start the recorder's JACK client: \(error)")
        }
    }

    var isFinished: Bool { result.withLock { $0 != nil } }
    var outcome: Outcome? { result.withLock { $0 } }

    /// Asks the thread to stop; it finishes on its own.
    func requestStop() { stopRequested.store(true, ordering: .releasing) }

    /// Blocks, up to `limit`, until the thread has finished; nil when it has not.
    func finished(within limit: Duration) -> Outcome? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if let outcome { return outcome }
            usleep(5_000)
        }
        return outcome
    }

    /// Waits, up to `limit`, for the thread to finish; nil when it has not.
    func waitFinished(within limit: Duration) async -> Outcome? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if let outcome { return outcome }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return outcome
    }

    /// The first port of each JACK client feeding `system:playback_<n>`, ours excepted.
    func boardOutputs() throws(RPCError) -> ([String], [String]) {
        var sides: [[String]] = []
        for side in 1...2 {
            let port = "system:playback_\(side)"
            guard client.hasPort(port) else { throw RPCError(.audioError, "JACK has no \(port) port") }
            sides.append(client.connections(of: port).filter { !$0.hasPrefix("\(client.name):") })
        }
        return (sides[0], sides[1])
    }

    // MARK: - Recording

    /// Connects the inputs to what feeds the board's output and starts the writer thread; on failure
    /// the run is over (client closed).
    func startRecording(
        writer: WAVWriter,
        maxFrames: Int,
        diskCheck: @escaping @Sendable () -> String?,
        finished: @escaping @Sendable (Outcome) -> Void
    ) throws(RPCError) -> [String] {
        let left: [String]
        let right: [String]
        do {
            (left, right) = try boardOutputs()
            for source in left { try client.connect(source, shared.pointee.inputs.0.name) }
            for source in right { try client.connect(source, shared.pointee.inputs.1.name) }
        } catch let error as RPCError {
            cancel()
            throw error
        } catch {
            cancel()
            throw RPCError(.audioError, "cannot connect the recorder: \(error)")
        }
        shared.pointee.capturing.store(true, ordering: .releasing)
        let thread = Thread { [self] in
            nameThisThread("recorder-writer")
            let outcome = write(into: writer, maxFrames: maxFrames, diskCheck: diskCheck)
            finished(outcome)
        }
        thread.start()
        return left + right
    }

    /// The writer thread: drains the ring into the file until asked or a limit is reached.
    private func write(into writer: WAVWriter, maxFrames: Int, diskCheck: () -> String?) -> Outcome {
        let chunk = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunkFrames * 2)
        defer { chunk.deallocate() }
        let ring = shared.pointee.capture
        var reason = StopReason.request
        var message: String?
        var error: RPCError?
        var lastDiskCheck = ContinuousClock.now
        while true {
            let stopping = stopRequested.load(ordering: .acquiring)
            let count = ring.read(into: chunk, frames: min(Self.chunkFrames, maxFrames - writer.frames))
            if count > 0 {
                do {
                    try writer.append(chunk, frames: count)
                } catch let failure {
                    (reason, error) = (.writeFailed, failure)
                    break
                }
            }
            if writer.frames >= maxFrames {
                (reason, message) = (.maxLength, "The recording reached its maximum length")
                break
            }
            if stopping && count == 0 { break }
            if client.isShutDown {
                (reason, message) = (.jackStopped, "JACK stopped during the recording")
                break
            }
            if ContinuousClock.now - lastDiskCheck > .seconds(1) {
                lastDiskCheck = .now
                followBoardOutputs()
                if let low = diskCheck() {
                    (reason, message) = (.diskSpace, low)
                    break
                }
            }
            if count == 0 { usleep(10_000) }
        }
        shared.pointee.capturing.store(false, ordering: .releasing)
        if !client.isShutDown { try? client.deactivate() }
        if error == nil {
            do { try writer.finish() } catch let failure { (reason, error) = (.writeFailed, failure) }
        } else {
            writer.abandon()
        }
        return tearDown(reason: reason, frames: writer.frames, message: message ?? error?.message, error: error)
    }

    /// Connects what started feeding the board's output since (a pedalboard loaded mid-recording),
    /// so the recording follows what is heard.
    private func followBoardOutputs() {
        guard let (left, right) = try? boardOutputs() else { return }
        for (sources, input) in [(left, shared.pointee.inputs.0.name), (right, shared.pointee.inputs.1.name)] {
            let connected = Set(client.connections(of: input))
            for source in sources where !connected.contains(source) { try? client.connect(source, input) }
        }
    }

    // MARK: - Playback

    /// Fills the ring, starts playing into `system:playback_1/2` and starts the reader thread.
    func startPlayback(reader: WAVReader, finished: @escaping @Sendable (Outcome) -> Void) throws(RPCError) {
        let first = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunkFrames * 2)
        fill(from: reader, chunk: first)
        first.deallocate()
        shared.pointee.playing.store(true, ordering: .releasing)
        do {
            try client.connect(shared.pointee.outputs.0.name, "system:playback_1")
            try client.connect(shared.pointee.outputs.1.name, "system:playback_2")
        } catch {
            cancel()
            throw RPCError(.audioError, "cannot connect the player: \(error)")
        }
        let thread = Thread { [self] in
            nameThisThread("recorder-player")
            let chunk = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunkFrames * 2)
            defer { chunk.deallocate() }
            var reason = StopReason.end
            while true {
                if stopRequested.load(ordering: .acquiring) {
                    reason = .request
                    break
                }
                if shared.pointee.drained.load(ordering: .acquiring) { break }
                if client.isShutDown {
                    reason = .jackStopped
                    break
                }
                fill(from: reader, chunk: chunk)
                usleep(10_000)
            }
            shared.pointee.playing.store(false, ordering: .releasing)
            if !client.isShutDown { try? client.deactivate() }
            finished(tearDown(reason: reason, frames: reader.frames, message: nil, error: nil))
        }
        thread.start()
    }

    /// Moves what fits of the file into the playback ring; marks the source done at its end.
    private func fill(from reader: WAVReader, chunk: UnsafeMutablePointer<Float>) {
        let ring = shared.pointee.playback
        while !shared.pointee.sourceDone.load(ordering: .relaxed) && ring.writable >= Self.chunkFrames {
            let count = reader.read(into: chunk, frames: Self.chunkFrames)
            if count == 0 {
                shared.pointee.sourceDone.store(true, ordering: .releasing)
            } else {
                _ = ring.write(chunk, frames: count)
            }
        }
    }

    /// Ends a run whose thread never started.
    func cancel() {
        _ = tearDown(reason: .request, frames: 0, message: nil, error: nil)
    }

    /// Closes the client (the callback has stopped), frees the shared state, records the outcome.
    private func tearDown(reason: StopReason, frames: Int, message: String?, error: RPCError?) -> Outcome {
        client.close()
        let outcome = Outcome(
            reason: reason,
            frames: frames,
            message: message,
            error: error,
            dropped: shared.pointee.dropped.load(ordering: .relaxed),
            cycles: shared.pointee.cycles.load(ordering: .relaxed),
            busyNanoseconds: shared.pointee.busyNanoseconds.load(ordering: .relaxed),
            longestNanoseconds: shared.pointee.longestNanoseconds.load(ordering: .relaxed)
        )
        shared.deinitialize(count: 1)
        shared.deallocate()
        result.withLock { $0 = outcome }
        return outcome
    }
}

/// Names the calling thread as `top -H` and `/proc/<pid>/task/*/comm` show it (Foundation's
/// `Thread.name` does not reach the kernel on Linux, and glibc's `pthread_setname_np` is not
/// visible to Swift).
func nameThisThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = Array(name.utf8.prefix(15)).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    close(fd)
}
