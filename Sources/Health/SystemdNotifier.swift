// Every call into libsystemd lives in this file.

import CSystemd

/// Tells systemd about the service's state over `NOTIFY_SOCKET` (`sd_notify(3)`).
///
/// Without `NOTIFY_SOCKET` (not started by systemd with `Type=notify`) every call is a no-op.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Sends newline-separated `KEY=value` assignments, e.g. `READY=1` or `STATUS=4/4 healthy`.
    /// Returns `true` when systemd was told, `false` when there is no notify socket or sending failed.
    @discardableResult
    public func notify(_ assignments: String) -> Bool {
        sd_notify(0, assignments) > 0
    }

    /// The watchdog interval systemd expects pings within, if it set one for this process.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }
}
