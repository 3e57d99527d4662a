extension Duration {
    /// In seconds, with the fraction: for arithmetic and machine-readable figures (JSON, metrics).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// In whole milliseconds, as `poll(2)` and ZeroMQ take them, saturating at `Int64`'s bounds.
    /// `.towardZero` by default; `.up` for a deadline, so it is never woken just before it.
    public func milliseconds(rounding rule: FloatingPointRoundingRule = .towardZero) -> Int64 {
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let (seconds, attoseconds) = components
        var whole = attoseconds / perMillisecond
        let rest = attoseconds % perMillisecond
        if rest != 0 {
            switch rule {
            case .up: if rest > 0 { whole += 1 }
            case .down: if rest < 0 { whole -= 1 }
            case .awayFromZero: whole += rest > 0 ? 1 : -1
            case .toNearestOrAwayFromZero, .toNearestOrEven:
                if rest.magnitude * 2 >= perMillisecond { whole += rest > 0 ? 1 : -1 }
            case .towardZero: break
            @unknown default: break
            }
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let (total, overflowAgain) = scaled.addingReportingOverflow(whole)
        guard !overflow, !overflowAgain else { return seconds < 0 ? .min : .max }
        return total
    }

    /// For people, in the supervisor's log, messages and tables: under a second in whole
    /// milliseconds (`120 ms`, `700 ms`), else in seconds to the hundredth (`4.25 s`, `4.50 s`),
    /// whole seconds without a fraction (`60 s`), never `4.252533856359423 seconds`. The one place
    /// durations are made readable, so every message spells them alike.
    public var readable: String {
        let milliseconds = milliseconds(rounding: .toNearestOrAwayFromZero)
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = milliseconds.magnitude
        if magnitude < 1000 { return "\(sign)\(magnitude) ms" }
        let hundredths = (magnitude + 5) / 10
        let fraction = hundredths % 100
        if fraction == 0 { return "\(sign)\(hundredths / 100) s" }
        return "\(sign)\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) s"
    }
}
