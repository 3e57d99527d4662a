import Health
import Messaging
import Testing

/// The history behind the operator's page, without I/O: exact values in, exact values out.
@Suite struct HistoryTests {
    @Test func ringKeepsTheLastValuesOldestFirst() {
        var ring = HistoryRing<Int>(capacity: 3)
        #expect(ring.values.isEmpty)
        #expect(ring.last == nil)
        ring.push(1)
        ring.push(2)
        #expect(ring.values == [1, 2])
        #expect(ring.last == 2)
        ring.push(3)
        ring.push(4)
        ring.push(5)
        #expect(ring.values == [3, 4, 5])
        #expect(ring.last == 5)
        #expect(ring.count == 3)
        for value in 6...100 { ring.push(value) }
        #expect(ring.values == [98, 99, 100])
    }

    @Test func historyKeepsFifteenMinutesAndOneSampleAMinute() {
        let history = HealthHistory(interval: .seconds(2))
        for second in stride(from: 0, to: 3600, by: 2) {
            history.record(HistorySample(time: Double(second), services: []))
        }
        let samples = history.samples
        #expect(samples.count == 450)
        #expect(samples.first?.time == 2700)
        #expect(samples.last?.time == 3598)
        let coarse = history.json["coarse"]?.arrayValue?.compactMap { $0["t"]?.doubleValue }
        #expect(coarse == stride(from: 0, to: 3600, by: 60).map(Double.init))
    }

    @Test func logLinesAreBounded() {
        let history = HealthHistory()
        for index in 0..<120 { history.log("jack", "line \(index)") }
        let lines = history.json["logs"]?["jack"]?.arrayValue?.compactMap(\.stringValue)
        #expect(lines == (70..<120).map { "line \($0)" })
    }

    @Test func sampleJSONIsCompact() {
        let sample = HistorySample(
            time: 1.5,
            dspLoad: 0.25,
            xruns: 3,
            services: [ServiceSample(name: "jack", state: .healthy, cpuSeconds: 1.25, residentBytes: 4096, restarts: 2)]
        )
        #expect(
            String(decoding: sample.json.serialized(sortedKeys: true), as: UTF8.self)
                == #"{"dsp":0.25,"s":{"jack":["healthy",1.25,4096,2,null]},"t":1.5,"xruns":3}"#
        )
    }

    @Test func processFiguresFromProcStat() {
        let stat =
            "4242 (jackd (rt) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 -11 0 3 0 100 200000000 2560 "
            + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let figures = ProcessFigures(stat: stat, ticksPerSecond: 100, pageSize: 4096)
        #expect(figures == ProcessFigures(cpuSeconds: 2, residentBytes: 2560 * 4096))
        #expect(ProcessFigures(stat: "garbage", ticksPerSecond: 100, pageSize: 4096) == nil)
        #expect(ProcessFigures(stat: "1 (x) S 1 2", ticksPerSecond: 100, pageSize: 4096) == nil)
    }

    @Test func actionsOnlyFromLoopbackUnlessTheTokenIsPresented() {
        typealias P = ActionPolicy
        #expect(P.decide(peer: "127.0.0.1", token: nil, presented: nil, marked: true) == .allowed)
        #expect(P.decide(peer: "::1", token: nil, presented: nil, marked: true) == .allowed)
        #expect(P.decide(peer: "::ffff:127.0.0.1", token: nil, presented: nil, marked: true) == .allowed)
        #expect(P.decide(peer: "192.168.1.9", token: nil, presented: nil, marked: true) != .allowed)
        #expect(P.decide(peer: "192.168.1.9", token: nil, presented: "x", marked: true) != .allowed)
        #expect(P.decide(peer: "192.168.1.9", token: "", presented: "", marked: true) != .allowed)
        #expect(P.decide(peer: "192.168.1.9", token: "s3cret", presented: "s3cret", marked: true) == .allowed)
        #expect(P.decide(peer: "192.168.1.9", token: "s3cret", presented: "s3creT", marked: true) != .allowed)
        #expect(P.decide(peer: "192.168.1.9", token: "s3cret", presented: nil, marked: true) != .allowed)
        #expect(P.decide(peer: "127.0.0.1", token: "s3cret", presented: nil, marked: true) == .allowed)
        // Without the header a foreign page in the operator's own browser could act: refused.
        #expect(P.decide(peer: "127.0.0.1", token: nil, presented: nil, marked: false) != .allowed)
        #expect(P.decide(peer: "1.2.3.4", token: "s3cret", presented: "s3cret", marked: false) != .allowed)
    }

    @Test func metricsCarryTheSampledFigures() {
        let sample = HistorySample(
            time: 1,
            dspLoad: 0.5,
            xruns: 7,
            services: [ServiceSample(name: "jack", state: .healthy, cpuSeconds: 2.5, residentBytes: 1024)]
        )
        let text = PrometheusText.render(
            HealthReport(uptime: 1, services: [ServiceHealth(name: "jack", state: .healthy)]),
            latest: sample
        )
        for line in [
            "# TYPE marlise_service_cpu_seconds_total counter",
            #"marlise_service_cpu_seconds_total{service="jack"} 2.5"#,
            "# TYPE marlise_service_resident_memory_bytes gauge",
            #"marlise_service_resident_memory_bytes{service="jack"} 1024"#, "marlise_jack_dsp_load_ratio 0.5",
            "# TYPE marlise_jack_xruns_total counter", "marlise_jack_xruns_total 7",
            #"marlise_stack_status{status="healthy"} 1"#, #"marlise_stack_status{status="failed"} 0"#,
        ] {
            #expect(text.contains(line + "\n"), "\(line)")
        }
        for line in text.split(separator: "\n") where line.hasPrefix("# HELP ") {
            #expect(line.split(separator: " ").count > 3, "\(line) has a help text")
        }
    }
}
