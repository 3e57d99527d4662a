import Locking

/// Counts an ``RPCServer``'s requests, its error replies and the time each took, from the frame's
/// arrival to its reply being handed to the socket's thread.
///
/// Fixed buckets in an inline array behind one lock: recording takes the lock once and allocates
/// nothing. A server records into the statistics its configuration names; a service that reports
/// them (the session's `health_check`) shares the same object.
public final class RPCStatistics: Sendable {
    private let totals = Locked(RPCTotals())

    public init() {}

    /// One request answered after `duration`; `failed` when its reply was an error (refusals too).
    public func record(_ duration: Duration, failed: Bool) {
        let seconds = duration.inSeconds
        let bucket = RPCTotals.bucket(for: seconds)
        totals.withLock { totals in
            totals.requests += 1
            if failed { totals.errors += 1 }
            totals.durationSum += seconds
            totals.counts[bucket] += 1
        }
    }

    /// Everything counted since the statistics were made.
    public var snapshot: RPCTotals { totals.withLock { $0 } }
}

/// What an ``RPCStatistics`` counted: requests, errors and a latency histogram whose buckets are
/// ``bounds`` (seconds, upper bounds inclusive, as Prometheus's `le`) and one more for the rest.
public struct RPCTotals: Sendable, Equatable {
    /// Upper bounds in seconds: from 100 µs, where a loopback call that never waits lands, to 10 s.
    public static let bounds: [Double] = [
        0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]
    /// ``bounds`` and +Inf.
    public static let bucketCount = 17

    public var requests = 0
    public var errors = 0
    /// Seconds, summed over every request.
    public var durationSum = 0.0
    /// Requests per bucket (not cumulative), the last one above every bound.
    public var counts = InlineArray<17, Int>(repeating: 0)

    public init() {}

    /// The bucket `seconds` falls in: the first whose bound is not below it.
    public static func bucket(for seconds: Double) -> Int {
        var index = 0
        while index < bounds.count, seconds > bounds[index] { index += 1 }
        return index
    }

    public var bucketCounts: [Int] { (0..<Self.bucketCount).map { counts[$0] } }

    public static func == (lhs: RPCTotals, rhs: RPCTotals) -> Bool {
        lhs.requests == rhs.requests && lhs.errors == rhs.errors && lhs.durationSum == rhs.durationSum
            && lhs.bucketCounts == rhs.bucketCounts
    }

    /// `{"requests":…,"errors":…,"duration_sum_s":…,"le":[…],"counts":[…]}`, as the session's
    /// `health_check` reports it (`counts` has one more entry than `le`: the requests above them).
    public var json: JSONValue {
        [
            "requests": .int(requests), "errors": .int(errors), "duration_sum_s": .double(durationSum),
            "le": .array(Self.bounds.map(JSONValue.double)), "counts": .array(bucketCounts.map { .int($0) }),
        ]
    }

    /// Reads ``json`` back; nil for anything else, or for other buckets than ours.
    public init?(json: JSONValue) {
        guard let requests = json["requests"]?.intValue, let errors = json["errors"]?.intValue,
            let sum = json["duration_sum_s"]?.doubleValue,
            let bounds = json["le"]?.arrayValue?.compactMap(\.doubleValue), bounds == Self.bounds,
            let counts = json["counts"]?.arrayValue?.compactMap(\.intValue), counts.count == Self.bucketCount
        else { return nil }
        self.requests = requests
        self.errors = errors
        durationSum = sum
        for (index, count) in counts.enumerated() { self.counts[index] = count }
    }

    /// What happened between `earlier` and this: the counts' differences, or this whole when the
    /// counts went down (the service restarted and began counting again).
    public func since(_ earlier: RPCTotals) -> RPCTotals {
        guard requests >= earlier.requests else { return self }
        var delta = RPCTotals()
        delta.requests = requests - earlier.requests
        delta.errors = max(0, errors - earlier.errors)
        delta.durationSum = max(0, durationSum - earlier.durationSum)
        for index in 0..<Self.bucketCount { delta.counts[index] = max(0, counts[index] - earlier.counts[index]) }
        return delta
    }

    /// The `q` quantile (0 to 1) of the durations counted, as Prometheus's `histogram_quantile`
    /// estimates it: linear within the bucket it falls in, the highest bound for the last bucket;
    /// nil with nothing counted.
    public func quantile(_ q: Double) -> Double? {
        guard requests > 0 else { return nil }
        let total = bucketCounts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = q * Double(total)
        var below = 0
        for index in 0..<Self.bucketCount {
            let count = counts[index]
            if count > 0, Double(below + count) >= rank {
                guard index < Self.bounds.count else { return Self.bounds[Self.bounds.count - 1] }
                let lower = index == 0 ? 0 : Self.bounds[index - 1]
                let upper = Self.bounds[index]
                return lower + (upper - lower) * max(0, rank - Double(below)) / Double(count)
            }
            below += count
        }
        return Self.bounds[Self.bounds.count - 1]
    }
}
