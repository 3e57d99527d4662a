import Foundation

/// Where the embedded host listens and which JACK server it joins.
public struct HostConfiguration: Sendable, Equatable {
    /// TCP port of the command socket (mod-host's `-p`).
    public var commandPort: UInt16 = 5555
    /// TCP port of the feedback socket (mod-host's `-f`); 0 disables it.
    public var feedbackPort: UInt16 = 5556
    /// Address the sockets bind; loopback unless configured otherwise.
    public var bindAddress: String = "127.0.0.1"
    /// JACK server name; nil means libjack's default (`JACK_DEFAULT_SERVER`, then "default").
    public var jackServer: String?
    /// The host's own JACK client name; mod-host's, so tools that look for it find us.
    public var clientName = "mod-host"
    /// Holds back the reading of the LV2 bundles, which runs beside the serving thread: for tests
    /// of a command answered before the world is read. `MARLISE_HOST_WORLD_DELAY_MS` by default.
    public var worldLoadDelay: Duration = .milliseconds(
        Int(ProcessInfo.processInfo.environment["MARLISE_HOST_WORLD_DELAY_MS"] ?? "") ?? 0
    )

    public init() {}
}
