public import Messaging

/// The board's output recorded to a WAV file, downloaded, played back (Marlise's `/recording`
/// routes). The recorder is its own JACK client in this process, not the bridge's: recording is
/// audio this service keeps, and a plugin host that restarts must not lose it.
///
/// None of these enter the actor: the recorder serialises itself, and its blocking calls (JACK,
/// fsync) run on a thread of their own so neither the actor nor Swift's pool waits on them.
extension Session {
    public nonisolated func startRecording() async throws -> JSONValue {
        try await blocking { [recorder] () throws(RPCError) in try recorder.startRecording() }
    }

    public nonisolated func stopRecording() async throws -> JSONValue {
        try await blocking { [recorder] () throws(RPCError) in try recorder.stopRecording() }
    }

    public nonisolated func startPlayback() async throws -> JSONValue {
        try await blocking { [recorder] () throws(RPCError) in try recorder.startPlayback() }
    }

    /// Waits, bounded, for the playback to end; `TIMEOUT` when it is still going.
    public nonisolated func waitPlayback(timeout: Duration?) async throws -> JSONValue {
        try await recorder.waitPlayback(timeout: timeout)
    }

    public nonisolated func stopPlayback() async throws -> JSONValue {
        try await blocking { [recorder] () throws(RPCError) in try recorder.stopPlayback() }
    }

    /// `{"audio": <base64 WAV>}`; `NOT_FOUND` without a recording.
    public nonisolated func downloadRecording() async throws -> JSONValue {
        try await blocking { [recorder] () throws(RPCError) in try recorder.download() }
    }

    public nonisolated func resetRecording() async throws -> JSONValue {
        try await blocking { [recorder] () throws(RPCError) in try recorder.reset() }
    }

    private nonisolated func blocking(
        _ body: @Sendable @escaping () throws(RPCError) -> JSONValue
    ) async throws(RPCError) -> JSONValue {
        let result = try? await onThread { () -> Result<JSONValue, RPCError> in
            do throws(RPCError) { return .success(try body()) } catch { return .failure(error) }
        }
        guard let result else { throw RPCError(.internalError, "the recorder's thread did not answer") }
        return try result.get()
    }
}
