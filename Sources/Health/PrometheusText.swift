import Messaging

/// The health report as Prometheus text exposition (version 0.0.4).
///
/// Written from the report at scrape time rather than kept in a metrics registry: every figure is
/// already in the report, and a scrape then shows exactly what `/health` shows. The figures the
/// supervisor samples (CPU, memory, JACK) come from the history's latest sample, the same the
/// operator's page plots.
public enum PrometheusText {
    public static func render(_ report: HealthReport, latest: HistorySample? = nil) -> String {
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in samples { lines.append("\(name)\(labels) \(format(value))") }
        }
        let services = report.services
        family(
            "marlise_up",
            "gauge",
            "1 when the stack is healthy.",
            [("", report.status == .healthy ? 1 : 0)]
        )
        family(
            "marlise_supervisor_uptime_seconds",
            "gauge",
            "Seconds since the supervisor started.",
            [("", report.uptime)]
        )
        family(
            "marlise_service_up",
            "gauge",
            "1 when the service is healthy.",
            services.map { (label($0.name), $0.state == .healthy ? 1 : 0) }
        )
        family(
            "marlise_service_restarts_total",
            "counter",
            "Restarts after a failure.",
            services.map { (label($0.name), Double($0.restarts)) }
        )
        family(
            "marlise_service_uptime_seconds",
            "gauge",
            "Seconds since the service's process started.",
            services.compactMap { service in service.uptime.map { (label(service.name), $0) } }
        )
        family(
            "marlise_service_probe_latency_seconds",
            "gauge",
            "Duration of the last probe.",
            services.compactMap { service in
                service.probe.map { probe in
                    (label(service.name), probe.latency.inSeconds)
                }
            }
        )
        family(
            "marlise_service_state",
            "gauge",
            "1 for the service's current state.",
            services.flatMap { service in
                ServiceState.allCases.map { state in
                    (
                        "{service=\"\(escape(service.name))\",state=\"\(state.rawValue)\"}",
                        service.state == state ? 1 : 0
                    )
                }
            }
        )
        family(
            "marlise_stack_status",
            "gauge",
            "1 for the stack's current status.",
            HealthReport.Status.allCases.map { ("{status=\"\($0.rawValue)\"}", report.status == $0 ? 1 : 0) }
        )
        if let latest { sampled(latest, family) { lines.append($0) } }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func sampled(
        _ sample: HistorySample,
        _ family: (String, String, String, [(String, Double)]) -> Void,
        _ append: (String) -> Void
    ) {
        family(
            "marlise_service_cpu_seconds_total",
            "counter",
            "User and system CPU time of the service's current process.",
            sample.services.compactMap { service in service.cpuSeconds.map { (label(service.name), $0) } }
        )
        family(
            "marlise_service_resident_memory_bytes",
            "gauge",
            "Resident memory of the service's current process.",
            sample.services.compactMap { service in service.residentBytes.map { (label(service.name), Double($0)) } }
        )
        let rpc = sample.services.compactMap { service in service.rpc.map { (label(service.name), $0) } }
        if !rpc.isEmpty {
            family(
                "marlise_session_rpc_requests_total",
                "counter",
                "Requests the service's RPC server answered, as its probe last read them.",
                rpc.map { ($0.0, Double($0.1.requests)) }
            )
            family(
                "marlise_session_rpc_errors_total",
                "counter",
                "Requests answered with an error, refusals included.",
                rpc.map { ($0.0, Double($0.1.errors)) }
            )
            histogram(
                "marlise_session_rpc_duration_seconds",
                "Time from a request's arrival to its reply being posted.",
                rpc,
                append
            )
        }
        if let load = sample.dspLoad {
            family("marlise_jack_dsp_load_ratio", "gauge", "JACK's DSP load, 0 to 1.", [("", load)])
        }
        if let xruns = sample.xruns {
            family(
                "marlise_jack_xruns_total",
                "counter",
                "Xruns JACK reported since the supervisor began watching it.",
                [("", Double(xruns))]
            )
        }
    }

    /// A histogram family: cumulative `_bucket{le=…}` lines ending at `+Inf`, then `_sum` and `_count`.
    private static func histogram(
        _ name: String,
        _ help: String,
        _ series: [(String, RPCTotals)],
        _ append: (String) -> Void
    ) {
        append("# HELP \(name) \(help)")
        append("# TYPE \(name) histogram")
        for (labels, totals) in series {
            // `{service="session"}` → `{service="session",le="…"}`.
            let inner = labels.dropFirst().dropLast()
            var cumulative = 0
            for index in 0..<RPCTotals.bucketCount {
                cumulative += totals.counts[index]
                let bound = index < RPCTotals.bounds.count ? String(RPCTotals.bounds[index]) : "+Inf"
                append("\(name)_bucket{\(inner),le=\"\(bound)\"} \(cumulative)")
            }
            append("\(name)_sum\(labels) \(format(totals.durationSum))")
            append("\(name)_count\(labels) \(totals.requests)")
        }
    }

    private static func label(_ service: String) -> String { "{service=\"\(escape(service))\"}" }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
