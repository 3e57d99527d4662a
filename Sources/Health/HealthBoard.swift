import Locking
import Messaging

/// The latest health report, readable at any instant without asking the supervisor.
///
/// The supervisor posts a report on every change; HTTP, ZeroMQ and sd_notify read this board, so a
/// slow child or a busy supervisor never delays an answer. Uptimes are advanced to the moment of
/// reading.
public final class HealthBoard: Sendable {
    private let latest: Locked<(report: HealthReport, at: ContinuousClock.Instant)>

    public init(_ report: HealthReport = HealthReport(uptime: 0, services: [], phase: .starting)) {
        latest = Locked((report, .now))
    }

    public func post(_ report: HealthReport) {
        latest.withLock { $0 = (report, .now) }
    }

    /// The last report posted, its uptimes counted up to now.
    public var report: HealthReport {
        let (report, at) = latest.withLock { $0 }
        let elapsed = ContinuousClock.now - at
        let seconds = elapsed.inSeconds
        var current = report
        current.uptime += seconds
        for index in current.services.indices where current.services[index].uptime != nil {
            current.services[index].uptime! += seconds
        }
        return current
    }
}
