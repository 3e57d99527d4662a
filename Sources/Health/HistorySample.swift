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

    public init(
        name: String,
        state: ServiceState,
        cpuSeconds: Double? = nil,
        residentBytes: Int? = nil,
        restarts: Int = 0,
        probeLatency: Double? = nil
    ) {
        self.name = name
        self.state = state
        self.cpuSeconds = cpuSeconds
        self.residentBytes = residentBytes
        self.restarts = restarts
        self.probeLatency = probeLatency
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

    /// Compact for the page: `{"t":…,"dsp":…,"xruns":…,"s":{"jack":["healthy",cpu,rss,restarts,probe]}}`.
    public var json: JSONValue {
        var services: [String: JSONValue] = [:]
        for service in self.services {
            services[service.name] = .array([
                .string(service.state.rawValue),
                service.cpuSeconds.map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
                service.residentBytes.map { .int($0) } ?? .null, .int(service.restarts),
                service.probeLatency.map { .double(($0 * 1e6).rounded() / 1e6) } ?? .null,
            ])
        }
        return [
            "t": .double((time * 1000).rounded() / 1000), "dsp": dspLoad.map(JSONValue.double) ?? .null,
            "xruns": xruns.map { .int($0) } ?? .null, "s": .object(services),
        ]
    }
}
