#if canImport(Glibc)
import Glibc
#endif

/// The limits of `start_recording` and friends, sized for a small box.
public struct RecordingSettings: Sendable, Equatable {
    /// The JACK server to record from; nil: libjack's default (`JACK_DEFAULT_SERVER`, else "default").
    public var jackServer: String?
    /// The recorder's JACK client name, unique per session process (two sessions on one server, as
    /// tests run them, must not collide).
    public var clientName = "marlise-recorder-\(getpid())"
    /// A recording stops by itself at this length.
    public var maxLength: Duration = .seconds(180)
    /// Recording is refused, or stops, when the data folder's file system has less free than this.
    public var minFreeBytes = 64 << 20
    /// The largest recording `download_recording` sends (its base64 is a third larger, in one JSON
    /// reply held in memory); a recording also stops by itself before growing past it.
    public var maxDownloadBytes = 40 << 20
    /// The longest `wait_playback` waits: under the 30 s Marlise's web API gives it.
    public var maxWait: Duration = .seconds(25)

    public init() {}
}
