import Locking
public import Messaging

/// The history behind the operator's page and `/metrics`: samples over the last 15 minutes, one a
/// minute over the last 24 hours, and the last log lines of each service, all in memory.
///
/// Memory is fixed (rings, nothing on the SD card); the supervisor samples, the HTTP thread reads.
/// Every change bumps ``version``, which the event stream follows.
public final class HealthHistory: Sendable {
    public static let linesKept = 50

    private struct State {
        var recent: HistoryRing<HistorySample>
        var coarse: HistoryRing<HistorySample>
        /// The latest sample whole; the rings keep it without its RPC counts, which only `/metrics`
        /// reads, and only the latest.
        var newest: HistorySample?
        var lines: [String: HistoryRing<String>] = [:]
        /// Lines since each version, for the event stream: (version, service, line).
        var fresh: HistoryRing<(Int, String, String)>
        var version = 0
    }

    public let interval: Duration
    private let state: Locked<State>

    /// `interval` between samples; 15 minutes of them are kept, and one a minute for a day.
    public init(interval: Duration = .seconds(2)) {
        self.interval = interval
        let perWindow = max(1, Int((900 / interval.inSeconds).rounded()))
        state = Locked(
            State(
                recent: HistoryRing(capacity: perWindow),
                coarse: HistoryRing(capacity: 1440),
                fresh: HistoryRing(capacity: 256)
            )
        )
    }

    public func record(_ sample: HistorySample) {
        var kept = sample
        for index in kept.services.indices { kept.services[index].rpc = nil }
        state.withLock { state in
            state.newest = sample
            let sample = kept
            if let last = state.coarse.last, sample.time - last.time < 60 {
            } else {
                state.coarse.push(sample)
            }
            state.recent.push(sample)
            state.version += 1
        }
    }

    /// Marks a change of the health report, so the event stream carries it before the next sample.
    public func touch() {
        state.withLock { $0.version += 1 }
    }

    /// Adds a log line of `service` (its stream mark included).
    public func log(_ service: String, _ line: String) {
        state.withLock { state in
            state.lines[service, default: HistoryRing(capacity: Self.linesKept)].push(line)
            state.version += 1
            state.fresh.push((state.version, service, line))
        }
    }

    public var version: Int { state.withLock { $0.version } }
    public var latest: HistorySample? { state.withLock { $0.newest ?? $0.recent.last } }
    public var samples: [HistorySample] { state.withLock { $0.recent.values } }

    /// All of it, for the page's first paint.
    public var json: JSONValue {
        state.withLock { state in
            [
                "interval_s": .double(interval.inSeconds), "recent": .array(state.recent.values.map(\.json)),
                "coarse": .array(state.coarse.values.map(\.json)),
                "logs": .object(state.lines.mapValues { .array($0.values.map(JSONValue.string)) }),
            ]
        }
    }

    /// The state now, for a stream that just opened: no log lines (the page has them from `/history`).
    func snapshot(report: HealthReport) -> (version: Int, event: JSONValue) {
        state.withLock { state in
            let event: JSONValue = [
                "health": report.json, "sample": state.recent.last?.json ?? .null, "logs": .object([:]),
            ]
            return (state.version, event)
        }
    }

    /// What happened after `version`: the latest sample (if one came) and new log lines.
    func changes(since version: Int, report: HealthReport) -> (version: Int, event: JSONValue)? {
        state.withLock { state in
            guard state.version > version else { return nil }
            var logs: [String: [JSONValue]] = [:]
            for (at, service, line) in state.fresh.values where at > version {
                logs[service, default: []].append(.string(line))
            }
            let event: JSONValue = [
                "health": report.json, "sample": state.recent.last?.json ?? .null,
                "logs": .object(logs.mapValues(JSONValue.array)),
            ]
            return (state.version, event)
        }
    }
}
