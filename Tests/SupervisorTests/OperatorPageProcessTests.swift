import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The operator's page on the built `marlise-supervisor` over real jackd and the session: the
/// page, its live stream, its actions, and (where Debian's `chromium` is installed) the page as a
/// browser renders it.
@Suite(.serialized, .jackAlone, .timeLimit(.minutes(5))) struct OperatorPageProcessTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Sends `request` to 127.0.0.1:`port` and reads until `done` holds, the server closes, or 5 s
    /// pass without a byte.
    static func exchange(
        port: Int,
        _ request: String,
        until done: @escaping @Sendable (String) -> Bool = { _ in false }
    )
        async throws -> String
    {
        try await onThread {
            let connection = try HostConnection(port: port)
            defer { connection.shut() }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(connection.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            try connection.write(Array(request.utf8))
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !done(String(decoding: response, as: UTF8.self)) {
                let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                response += buffer[..<count]
            }
            return String(decoding: response, as: UTF8.self)
        }
    }

    /// The `data:` objects of an event stream so far.
    static func events(_ stream: String) -> [JSONValue] {
        stream.split(separator: "\n").filter { $0.hasPrefix("data: ") }.compactMap {
            try? JSONValue(parsing: Data($0.dropFirst(6).utf8))
        }
    }

    @Test func pageStreamsSampledFiguresAndActsFromLoopback() async throws {
        let stack = try SupervisorProcessTests.Stack()
        defer { stack.remove() }
        let supervisor = try await stack.start()
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("not healthy") }
        }
        let page = try await Self.exchange(port: stack.httpPort, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(page.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"))

        // Three samples (2 s apart) on the stream: both services, with CPU time and memory, and (once
        // the liveness probes have run, bounded at 20 samples) JACK's figures and the session's RPC rate.
        let stream = try await Self.exchange(port: stack.httpPort, "GET /events HTTP/1.1\r\n\r\n") {
            let samples = Self.events($0).compactMap { $0["sample"] }
            let probed =
                samples.contains { $0["dsp"]?.doubleValue != nil }
                && samples.contains { $0["s"]?["session"]?.arrayValue?.count == 8 }
            return samples.count >= 20
                || (samples.filter { $0["s"]?["jack"]?.arrayValue?[1].doubleValue != nil }.count >= 3 && probed)
        }
        let samples = Self.events(stream).compactMap { $0["sample"] }
        let last = try #require(samples.last)
        #expect(last["s"]?["jack"]?.arrayValue?[0] == "healthy")
        #expect((last["s"]?["jack"]?.arrayValue?[2].intValue ?? 0) > 1 << 20, "jackd's resident memory")
        #expect(last["s"]?["session"]?.arrayValue?[1].doubleValue != nil)
        #expect(Set(samples.compactMap { $0["t"]?.doubleValue }).count >= 2)
        // JACK's figures, lent by the jack probe's kept client once its liveness checks run.
        let withJack = samples.filter { $0["dsp"]?.doubleValue != nil }
        #expect(!withJack.isEmpty, "no DSP load in \(samples.count) samples")
        #expect(withJack.allSatisfy { (0...1).contains($0["dsp"]?.doubleValue ?? -1) && $0["xruns"]?.intValue != nil })

        let metrics = try await Self.exchange(
            port: stack.httpPort,
            "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"
        )
        #expect(metrics.contains(#"marlise_service_cpu_seconds_total{service="jack"} "#))
        #expect(metrics.contains(#"marlise_service_resident_memory_bytes{service="session"} "#))
        // The session's RPC figures, from its probe's health_check replies (one every 0.2 s here).
        #expect(metrics.contains(#"marlise_session_rpc_requests_total{service="session"} "#), "\(metrics)")
        #expect(metrics.contains(#"marlise_session_rpc_duration_seconds_bucket{service="session",le="+Inf"} "#))
        let rated = samples.compactMap { $0["s"]?["session"]?.arrayValue }.filter { $0.count == 8 }
        #expect(
            rated.contains { ($0[5].doubleValue ?? 0) > 0 && $0[6].doubleValue != nil },
            "\(samples.last?.jsonText ?? "")"
        )

        // A restart from the page: accepted, and the session comes back with a new process.
        let session = try #require(try await stack.pid(of: "session"))
        let restart = try await Self.exchange(
            port: stack.httpPort,
            "POST /services/session/restart HTTP/1.1\r\nX-Marlise-Action: 1\r\nContent-Length: 0\r\n\r\n"
        )
        #expect(restart.hasPrefix("HTTP/1.1 202"))
        try await eventually {
            guard let pid = try await stack.pid(of: "session"), pid != session,
                try await stack.healthReport()["status"] == "healthy"
            else { throw TestFailure("session not restarted") }
        }
        try await supervisor.stop(SIGTERM)
    }

    /// The script the test runs in the page: every state each service's row has shown (with the
    /// colour its state cell was drawn in), kept as the rows are redrawn from the stream.
    static let observer = """
        window.__seen={};const rec=()=>{for(const r of document.querySelectorAll("#rows tr")){
         const s=window.__seen[r.dataset.service]||(window.__seen[r.dataset.service]=[]);
         const v=r.dataset.state+" "+getComputedStyle(r.children[1]).color;if(s[s.length-1]!==v)s.push(v)}};
        rec();new MutationObserver(rec).observe(document.getElementById("rows"),{childList:true,subtree:true});true
        """

    /// What the page shows now: each row's service and state, each plot's points and painted
    /// pixels, the states seen, and the browser's paint timings.
    static let reading = """
        JSON.stringify({ready:document.readyState,rows:[...document.querySelectorAll("#rows tr")].map(r=>r.dataset.service+":"+r.dataset.state),
         points:Object.fromEntries([...document.querySelectorAll("canvas")].map(c=>[c.id,+(c.dataset.points||0)])),
         inked:Object.fromEntries([...document.querySelectorAll("canvas")].map(c=>{const d=c.width&&c.height?c.getContext("2d").getImageData(0,0,c.width,c.height).data:[];
          let n=0;for(let i=3;i<d.length;i+=4)if(d[i])n++;return[c.id,n]})),
         pids:Object.fromEntries([...document.querySelectorAll("#rows tr")].map(r=>[r.dataset.service,r.children[2].textContent+" "+r.children[4].textContent])),
         seen:window.__seen||{},live:(document.getElementById("live")||{}).textContent,at:new Date().toLocaleTimeString(),
         paint:Object.fromEntries(performance.getEntriesByType("paint").map(e=>[e.name,e.startTime]))})
        """

    /// Whether an `rgb(r, g, b)` colour is mostly red (or green).
    static func hue(_ css: String) -> (red: Bool, green: Bool) {
        let numbers = css.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        guard numbers.count >= 3 else { return (false, false) }
        return (numbers[0] > numbers[1] && numbers[0] > numbers[2], numbers[1] > numbers[0] && numbers[1] > numbers[2])
    }

    /// Headless Chromium, driven over the DevTools protocol, renders the page against the running
    /// stack: services listed healthy, every plot drawn with data (the session's RPC rate and
    /// latency among them), a session killed with SIGKILL shown down and then green again without a
    /// reload, one stopped with SIGSTOP shown red until it is restarted, and no console error. Prints the time to first paint; the screenshot is left in
    /// `.build/test-artifacts/`. Runs only where `chromium` is installed.
    @Test(.enabled(if: chromium != nil, "Debian's chromium is not installed"))
    func chromiumShowsServicesPlotsAndAKilledServiceComingBack() async throws {
        let chromium = try #require(Self.chromium)
        let stack = try SupervisorProcessTests.Stack()
        defer { stack.remove() }
        let supervisor = try await stack.start()
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("not healthy") }
        }
        let page = try await Self.exchange(port: stack.httpPort, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        let weight = page.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n").utf8.count
        try await Task.sleep(for: .seconds(3))  // a few samples with the probe's RPC figures to plot

        let browser = try await onThread {
            try ChromiumDevTools(
                chromium: chromium,
                folder: "\(stack.folder)/chromium",
                log: "\(stack.folder)/chromium.log"
            )
        }
        defer { browser.shut() }
        func read() async throws -> JSONValue {
            let text = try await onThread { try browser.evaluate(Self.reading) }
            return try JSONValue(parsing: text.stringValue ?? "{}")
        }
        /// Reads the page every 200 ms until `done` holds, for at most `limit`.
        func until(
            _ what: String,
            within limit: Duration = .seconds(20),
            _ done: (JSONValue) -> Bool
        ) async throws
            -> JSONValue
        {
            let end = ContinuousClock.now + limit
            var last: JSONValue = .null
            while ContinuousClock.now < end {
                last = try await read()
                if done(last) { return last }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw TestFailure(
                "\(what) not seen within \(limit); the page showed \(last.jsonText), errors \(browser.errors)"
            )
        }

        let url = "http://127.0.0.1:\(stack.httpPort)/"
        try await onThread { try browser.open(url) }
        // Not the day's plot: its first sample came before any process was up.
        let plots = ["dsp", "xruns", "cpu", "rss", "rpc", "latency"]
        let drawn = try await until("services and plots") { state in
            // "live" once the first event of the stream came (the first paint is from /history).
            state["ready"] == "complete" && state["rows"] == ["jack:healthy", "session:healthy"]
                && state["live"]?.stringValue?.hasPrefix("live") == true
                && plots.allSatisfy {
                    (state["points"]?[$0]?.intValue ?? 0) > 0 && (state["inked"]?[$0]?.intValue ?? 0) > 0
                }
        }
        let paint = try #require(drawn["paint"]?["first-paint"]?.doubleValue, "\(drawn.jsonText)")
        let contentful = drawn["paint"]?["first-contentful-paint"]?.doubleValue ?? paint
        print(
            String(
                format:
                    "operator page: %d bytes, first paint %.0f ms, first contentful paint %.0f ms (headless Chromium)",
                weight,
                paint,
                contentful
            )
        )
        #expect(paint > 0 && paint < 5000)
        let artifacts = productsDirectory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let shot = artifacts.appendingPathComponent("operator-page.png")
        try await onThread { try browser.screenshot() }.write(to: shot)
        #expect(try Data(contentsOf: shot).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]), "a PNG at \(shot.path)")

        // The session's process as /health names it, killed with SIGKILL: the page shows its new
        // process and the restart counted, without a reload (a service that ran healthy is started
        // again at once, back before the page's next event: the kill shows as a restart, not red). Then stopped with SIGSTOP: its liveness probe fails and the page shows
        // it red (unhealthy) until the supervisor kills and restarts it, and green again.
        _ = try await onThread { try browser.evaluate(Self.observer) }
        func sessionPID() async throws -> Int32? {
            let (code, health) = try await httpRequest("GET", "/health", port: UInt16(stack.httpPort))
            let services = try JSONValue(parsing: health)["services"]?.arrayValue
            return code == 200 ? services?.first { $0["name"] == "session" }?["pid"]?.intValue.map(Int32.init) : nil
        }
        func seen(_ state: JSONValue) -> [String] {
            state["seen"]?["session"]?.arrayValue?.compactMap(\.stringValue) ?? []
        }
        /// Waits until the session's row, after the first `skip` states it showed, showed one of
        /// `down` and then healthy again; returns the states it showed after `skip`.
        func cycle(_ what: String, after skip: Int, down: [String]) async throws -> [String] {
            let state = try await until(what, within: .seconds(30)) { state in
                let shown = seen(state).dropFirst(skip)
                guard let low = shown.firstIndex(where: { entry in down.contains { entry.hasPrefix($0 + " ") } }) else {
                    return false
                }
                return shown[low...].contains { $0.hasPrefix("healthy ") }
                    && state["rows"]?.arrayValue?.last == "session:healthy"
            }
            return Array(seen(state).dropFirst(skip))
        }
        let killed = try #require(try await sessionPID())
        let before = try await read()["pids"]?["session"]?.stringValue
        #expect(before == "\(killed) 0", "the row's PID and restarts")
        #expect(kill(killed, SIGKILL) == 0)
        let restarted = try await until("the killed session's new process, a restart counted") { state in
            let row = state["pids"]?["session"]?.stringValue?.split(separator: " ") ?? []
            return row.count == 2 && row[0] != "\(killed)" && row[0] != "–" && row[1] == "1"
                && state["rows"]?.arrayValue?.last == "session:healthy"
        }
        let afterKill = seen(restarted)
        let stopped = try await eventually {
            guard let pid = try await sessionPID(), pid != killed else { throw TestFailure("no new session yet") }
            return pid
        }
        let shownBefore = try await seen(read()).count
        #expect(kill(stopped, SIGSTOP) == 0)
        defer { kill(stopped, SIGKILL) }
        let afterStop = try await cycle("the stopped session red, then green", after: shownBefore, down: ["unhealthy"])
        print(
            "operator page: a session killed showed \(afterKill.joined(separator: " → ")), then PID and restarts \(restarted["pids"]?["session"]?.stringValue ?? "?")"
        )
        print("operator page: a session stopped showed \(afterStop.joined(separator: " → "))")
        for state in afterKill + afterStop {
            let colour = String(state.drop { $0 != " " })
            if state.hasPrefix("unhealthy ") || state.hasPrefix("failed ") { #expect(Self.hue(colour).red, "\(state)") }
            if state.hasPrefix("healthy ") { #expect(Self.hue(colour).green, "\(state)") }
        }
        let errors = browser.errors
        #expect(errors.isEmpty, "\(errors)")
        try await supervisor.stop(SIGTERM)
    }
}
