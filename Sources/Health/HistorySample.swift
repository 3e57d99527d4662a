public import Messaging

/// One service at one sampling instant.
public struct ServiceSample: Sendable, Equatable {
    public var name: String
    public var state: ServiceState
    /// User and system CPU time of its process since it started; nil without a process.
    public var cpuSeconds: Double?
    public var residentBytes: Int?
    public var restarts: Int
    public var probeLatency: Double?
    /// The RPC counts its probe last read (the session's), for `/metrics`; nil for other services.
    /// Boxed, so a sample without them (every service but the session, every sample the history
    /// keeps but the newest) costs a pointer rather than the histogram's room.
    public var rpc: RPCTotals? {
        get { rpcBox?.totals }
        set { rpcBox = newValue.map(RPCTotalsBox.init) }
    }
    private var rpcBox: RPCTotalsBox?
    /// Requests per second, and the median and 95th percentile of their durations in seconds,
    /// between its probe's last two readings (see ``RPCWindow``); nil without them. Boxed too.
    public var rpcWindow: RPCWindow? {
        get { windowBox?.window }
        set { windowBox = newValue.map(RPCWindowBox.init) }
    }
    private var windowBox: RPCWindowBox?

    public init(
        name: String,
        state: ServiceState,
        cpuSeconds: Double? = nil,
        residentBytes: Int? = nil,
        restarts: Int = 0,
        probeLatency: Double? = nil,
        rpc: RPCTotals? = nil,
        rpcWindow: RPCWindow? = nil
    ) {
        self.name = name
        self.state = state
        self.cpuSeconds = cpuSeconds
        self.residentBytes = residentBytes
        self.restarts = restarts
        self.probeLatency = probeLatency
        rpcBox = rpc.map(RPCTotalsBox.init)
        windowBox = rpcWindow.map(RPCWindowBox.init)
    }
}

/// What the supervisor samples at a fixed interval: the history behind the operator's page.
public struct HistorySample: Sendable, Equatable {
    /// Seconds since 1970.
    public var time: Double
    /// JACK's DSP load, 0 to 1; nil while no figure is known.
    public var dspLoad: Double?
    /// Xruns counted since JACK started; nil while no figure is known.
    public var xruns: Int?
    public var services: [ServiceSample]

    public init(time: Double, dspLoad: Double? = nil, xruns: Int? = nil, services: [ServiceSample]) {
        self.time = time
        self.dspLoad = dspLoad
        self.xruns = xruns
        self.services = services
    }

    /// Compact for the page: `{"t":…,"dsp":…,"xruns":…,"s":{"jack":["healthy",cpu,rss,restarts,probe]}}`;
    /// a service with RPC figures adds `rate,p50,p95` (requests/s, seconds) to its array.
    public var json: JSONValue {
        var services: [String: JSONValue] = [:]
        for service in self.services {
            services[service.name] = .array(
                [
                    .string(service.state.rawValue),
                    service.cpuSeconds.map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
                    service.residentBytes.map { .int($0) } ?? .null, .int(service.restarts),
                    service.probeLatency.map { .double(($0 * 1e6).rounded() / 1e6) } ?? .null,
                ] + (service.rpcWindow.map(\.json) ?? [])
            )
        }
        return [
            "t": .double((time * 1000).rounded() / 1000), "dsp": dspLoad.map(JSONValue.double) ?? .null,
            "xruns": xruns.map { .int($0) } ?? .null, "s": .object(services),
        ]
    }
}

/// A service's RPC traffic between two readings of its counts: the rate and latency the page plots.
public struct RPCWindow: Sendable, Equatable {
    public var rate: Double
    public var errorRate: Double
    /// Seconds; nil when no request came in the window.
    public var p50: Double?
    public var p95: Double?

    public init(rate: Double, errorRate: Double = 0, p50: Double? = nil, p95: Double? = nil) {
        self.rate = rate
        self.errorRate = errorRate
        self.p50 = p50
        self.p95 = p95
    }

    /// From the counts read at `earlier` to those read at `later` (seconds since 1970); the latency
    /// quantiles from the differences of the histogram's buckets. Nil unless time went forward.
    public init?(from earlier: TimedRPCTotals, to later: TimedRPCTotals) {
        let seconds = later.time - earlier.time
        guard seconds > 0 else { return nil }
        let delta = later.totals.since(earlier.totals)
        self.init(
            rate: Double(delta.requests) / seconds,
            errorRate: Double(delta.errors) / seconds,
            p50: delta.quantile(0.5),
            p95: delta.quantile(0.95)
        )
    }

    var json: [JSONValue] {
        func rounded(_ value: Double?, _ scale: Double) -> JSONValue {
            value.map { .double(($0 * scale).rounded() / scale) } ?? .null
        }
        return [rounded(rate, 1000), rounded(p50, 1e7), rounded(p95, 1e7)]
    }
}

/// RPC counts with when they were read, seconds since 1970.
public struct TimedRPCTotals: Sendable, Equatable {
    public var time: Double
    public var totals: RPCTotals

    public init(time: Double, totals: RPCTotals) {
        self.time = time
        self.totals = totals
    }
}

/// Turns the RPC counts each probe reads into the rate and latency of the window between its last
/// two readings, held until the next (a probe reads every few seconds, the sampler every 2 s).
public struct RPCWindows: Sendable {
    private var readings: [String: (previous: TimedRPCTotals?, latest: TimedRPCTotals)] = [:]
    private var windows: [String: RPCWindow] = [:]

    public init() {}

    /// Puts each service's counts and latest window into `sample`.
    public mutating func apply(_ totals: [String: TimedRPCTotals], to sample: inout HistorySample) {
        // A process gone: its counts and window go with it (the next one counts from zero).
        for name in readings.keys where totals[name] == nil {
            readings[name] = nil
            windows[name] = nil
        }
        for (name, reading) in totals where readings[name]?.latest != reading {
            let previous = readings[name]?.latest
            readings[name] = (previous, reading)
            windows[name] = previous.flatMap { RPCWindow(from: $0, to: reading) }
        }
        for index in sample.services.indices {
            let name = sample.services[index].name
            sample.services[index].rpc = readings[name]?.latest.totals
            sample.services[index].rpcWindow = windows[name]
        }
    }
}

/// RPC counts on the heap, shared by the copies of one sample.
private final class RPCTotalsBox: Sendable, Equatable {
    let totals: RPCTotals
    init(_ totals: RPCTotals) { self.totals = totals }
    static func == (lhs: RPCTotalsBox, rhs: RPCTotalsBox) -> Bool { lhs.totals == rhs.totals }
}

/// An RPC window on the heap, shared by the copies of one sample.
private final class RPCWindowBox: Sendable, Equatable {
    let window: RPCWindow
    init(_ window: RPCWindow) { self.window = window }
    static func == (lhs: RPCWindowBox, rhs: RPCWindowBox) -> Bool { lhs.window == rhs.window }
}
