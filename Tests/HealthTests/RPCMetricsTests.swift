import Foundation
import Health
import Messaging
import TestSupport
import Testing

/// The session's RPC figures on `/metrics` and the page's samples: counts from a real server after
/// real calls, as a Prometheus histogram, and the rate and latency a sample carries.
@Suite(.timeLimit(.minutes(1))) struct RPCMetricsTests {
    @Test func metricsShowARealServersCallsAsAHistogram() async throws {
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: {
                var router = RPCRouter()
                router.register("health_check") { _ in ["healthy": true] }
                return router
            }()
        )
        let client = RPCClient(RPCClientConfiguration(endpoint: server.endpoint, timeout: .seconds(10)))
        for _ in 0..<12 { _ = try await client.call("health_check") }
        await #expect(throws: RPCError.self) { try await client.call("nothing_here") }
        await client.shutdown()
        let totals = server.statistics.snapshot
        await server.shutdown()

        let history = HealthHistory()
        history.record(
            HistorySample(
                time: Date().timeIntervalSince1970,
                services: [ServiceSample(name: "session", state: .healthy, rpc: totals)]
            )
        )
        let (http, port, task) = try await OperatorPageTests.serve(history: history)
        let (code, body) = try await httpRequest("GET", "/metrics", port: port)
        await http.stop()
        task.cancel()
        #expect(code == 200)
        let family = "marlise_session_rpc_duration_seconds"
        for line in [
            "# TYPE marlise_session_rpc_requests_total counter",
            #"marlise_session_rpc_requests_total{service="session"} 13"#,
            "# TYPE marlise_session_rpc_errors_total counter",
            #"marlise_session_rpc_errors_total{service="session"} 1"#,
            "# TYPE \(family) histogram", #"\#(family)_bucket{service="session",le="+Inf"} 13"#,
            #"\#(family)_count{service="session"} 13"#,
        ] {
            #expect(body.contains(line + "\n"), "\(line) in \(body)")
        }
        #expect(body.contains("# HELP \(family) "))
        #expect(body.contains(#"\#(family)_sum{service="session"} "#))
        // Buckets are cumulative, in order of their bounds, one per bound and +Inf.
        let buckets = body.split(separator: "\n").filter { $0.hasPrefix("\(family)_bucket{") }
        #expect(buckets.count == RPCTotals.bucketCount)
        let counts = buckets.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        #expect(counts == counts.sorted())
        #expect(buckets.first?.contains(#"le="0.0001""#) == true)
    }

    @Test func aSampleCarriesRateAndLatencyBetweenTwoReadings() throws {
        let statistics = RPCStatistics()
        for _ in 0..<4 { statistics.record(.microseconds(300), failed: false) }
        let earlier = TimedRPCTotals(time: 100, totals: statistics.snapshot)
        for _ in 0..<19 { statistics.record(.microseconds(700), failed: false) }
        statistics.record(.milliseconds(40), failed: true)
        let later = TimedRPCTotals(time: 105, totals: statistics.snapshot)
        let window = try #require(RPCWindow(from: earlier, to: later))
        #expect(window.rate == 4, "20 requests in 5 s")
        #expect(window.errorRate == 0.2)
        #expect(try #require(window.p50) > 0.000_5 && window.p50! <= 0.001)
        #expect(try #require(window.p95) <= 0.001, "19 of 20 within 1 ms")
        #expect(RPCWindow(from: later, to: later) == nil, "no time, no rate")

        let sample = HistorySample(
            time: 105,
            services: [
                ServiceSample(name: "session", state: .healthy, rpc: later.totals, rpcWindow: window),
                ServiceSample(name: "jack", state: .healthy),
            ]
        )
        let session = try #require(sample.json["s"]?["session"]?.arrayValue)
        #expect(session.count == 8)
        #expect(session[5].doubleValue == 4)
        #expect(session[6].doubleValue == window.p50.map { ($0 * 1e7).rounded() / 1e7 })
        #expect(sample.json["s"]?["jack"]?.arrayValue?.count == 5, "no RPC figures, no room for them")
    }
}

/// What the supervisor's sampler does with the counts its probe reads: a window per reading, held
/// between readings, dropped with the process.
@Suite struct RPCWindowsTests {
    static func totals(_ requests: Int, each duration: Duration) -> RPCTotals {
        let statistics = RPCStatistics()
        for _ in 0..<requests { statistics.record(duration, failed: false) }
        return statistics.snapshot
    }

    static func sample(_ time: Double) -> HistorySample {
        HistorySample(time: time, services: [ServiceSample(name: "session", state: .healthy)])
    }

    @Test func samplesCarryTheLatestWindowUntilTheNextReading() throws {
        var windows = RPCWindows()
        var first = Self.sample(0)
        windows.apply(["session": TimedRPCTotals(time: 0, totals: Self.totals(2, each: .microseconds(50)))], to: &first)
        #expect(first.services[0].rpc?.requests == 2)
        #expect(first.services[0].rpcWindow == nil, "one reading is no window")

        let second = TimedRPCTotals(time: 5, totals: Self.totals(12, each: .microseconds(50)))
        var next = Self.sample(2)
        windows.apply(["session": second], to: &next)
        #expect(next.services[0].rpcWindow?.rate == 2, "10 requests in 5 s")
        #expect(try #require(next.services[0].rpcWindow?.p95) <= 0.000_1)
        // The probe has not read again: the same window, not a rate of zero.
        var held = Self.sample(4)
        windows.apply(["session": second], to: &held)
        #expect(held.services[0].rpcWindow == next.services[0].rpcWindow)
        // The process exited: nothing to report until a new one is read.
        var gone = Self.sample(6)
        windows.apply([:], to: &gone)
        #expect(gone.services[0].rpc == nil && gone.services[0].rpcWindow == nil)
        // A new process counts from zero: its first reading after the old is no window either.
        var restarted = Self.sample(8)
        windows.apply(
            ["session": TimedRPCTotals(time: 8, totals: Self.totals(1, each: .milliseconds(1)))],
            to: &restarted
        )
        #expect(restarted.services[0].rpc?.requests == 1)
        #expect(restarted.services[0].rpcWindow == nil)
    }
}

/// The history keeps the RPC counts of its newest sample only: `/metrics` reads them there, the
/// rings hold a day of samples without them.
@Suite struct RPCHistoryMemoryTests {
    @Test func onlyTheNewestSampleKeepsItsCounts() {
        let history = HealthHistory()
        let statistics = RPCStatistics()
        for second in 0..<3 {
            statistics.record(.milliseconds(1), failed: false)
            history.record(
                HistorySample(
                    time: Double(second * 2),
                    services: [ServiceSample(name: "session", state: .healthy, rpc: statistics.snapshot)]
                )
            )
        }
        #expect(history.latest?.services.first?.rpc?.requests == 3)
        #expect(history.samples.count == 3)
        #expect(history.samples.allSatisfy { $0.services.allSatisfy { $0.rpc == nil } })
        print("ServiceSample: \(MemoryLayout<ServiceSample>.stride) bytes")
        #expect(MemoryLayout<ServiceSample>.stride <= 104, "a sample without counts holds a pointer, not a histogram")
    }
}
