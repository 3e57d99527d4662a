import Foundation
import Health
import Messaging
import TestSupport
import Testing

/// The operators' HTTP face, over a real socket on a free port.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HealthHTTPServerTests {
    static func report(jack: ServiceState = .healthy, session: ServiceState = .healthy) -> HealthReport {
        var jackHealth = ServiceHealth(name: "jack", state: jack, audioPath: true)
        jackHealth.pid = 4242
        jackHealth.uptime = 12
        jackHealth.probe = ProbeReport(ok: true, latency: .milliseconds(3), at: Date(), error: nil)
        var sessionHealth = ServiceHealth(name: "session", state: session)
        sessionHealth.restarts = 2
        sessionHealth.lastExit = LastExit(code: nil, signal: "SIGKILL", at: Date())
        return HealthReport(uptime: 12.5, services: [jackHealth, sessionHealth])
    }

    static func serve(_ board: HealthBoard) async throws -> (HealthHTTPServer, UInt16, Task<Void, any Error>) {
        let server = try HealthHTTPServer(port: 0, board: board)
        // The socket listens from init on: no need to wait for run() to start.
        let task = Task { try await server.run() }
        let port = try #require(await server.port)
        return (server, port, task)
    }

    @Test func healthIs200WhenHealthyAnd503WithTheReasonOtherwise() async throws {
        let board = HealthBoard(Self.report())
        let (server, port, task) = try await Self.serve(board)
        let (code, body) = try await httpRequest("GET", "/health", port: port)
        #expect(code == 200)
        let json = try JSONValue(parsing: body)
        #expect(json["status"] == "healthy")
        #expect(json["services"]?.arrayValue?.map { $0["name"] } == ["jack", "session"])
        #expect(json["services"]?.arrayValue?.first?["pid"] == 4242)
        #expect(json["services"]?.arrayValue?.last?["last_exit"]?["signal"] == "SIGKILL")

        board.post(Self.report(session: .unhealthy))
        let (down, downBody) = try await httpRequest("GET", "/health", port: port)
        #expect(down == 503)
        let downJSON = try JSONValue(parsing: downBody)
        #expect(downJSON["status"] == "degraded")
        #expect(downJSON["services"]?.arrayValue?.last?["state"] == "unhealthy")
        await server.stop()
        task.cancel()
    }

    @Test func oneServiceUnknownPathsAndMethods() async throws {
        let (server, port, task) = try await Self.serve(HealthBoard(Self.report()))
        let (code, body) = try await httpRequest("GET", "/health/jack", port: port)
        #expect(code == 200)
        #expect(try JSONValue(parsing: body)["name"] == "jack")
        #expect(try await httpRequest("GET", "/health/nosuch", port: port).0 == 404)
        #expect(try await httpRequest("GET", "/elsewhere", port: port).0 == 404)
        #expect(try await httpRequest("POST", "/health", port: port).0 == 405)
        #expect(try await httpRequest("DELETE", "/metrics", port: port).0 == 405)
        let (head, headBody) = try await httpRequest("HEAD", "/health", port: port)
        #expect(head == 200)
        #expect(headBody.isEmpty)
        await server.stop()
        task.cancel()
    }

    @Test func metricsParseAsPrometheusText() async throws {
        let (server, port, task) = try await Self.serve(HealthBoard(Self.report()))
        let (code, body) = try await httpRequest("GET", "/metrics", port: port)
        #expect(code == 200)
        var samples: [String: Double] = [:]
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            // name{labels} value — the exposition format's sample line.
            let parts = line.split(separator: " ")
            #expect(parts.count == 2, "bad sample line: \(line)")
            #expect(
                line.wholeMatch(of: /[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+/) != nil,
                "\(line)"
            )
            samples[String(parts[0])] = Double(parts[1])
        }
        #expect(samples["marlise_up"] == 1)
        #expect(samples["marlise_service_restarts_total{service=\"session\"}"] == 2)
        #expect(samples["marlise_service_up{service=\"jack\"}"] == 1)
        #expect(samples["marlise_service_state{service=\"jack\",state=\"healthy\"}"] == 1)
        #expect(samples["marlise_service_probe_latency_seconds{service=\"jack\"}"] == 0.003)
        await server.stop()
        task.cancel()
    }
}

/// The HTTP endpoint against careless and hostile clients: it answers each with a status and keeps
/// serving, and a long request costs it nothing.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HealthHTTPHostileTests {
    /// Sends `bytes` on a fresh connection and reads until the server closes it.
    static func exchange(_ bytes: [UInt8], port: UInt16) async throws -> String {
        try await onThread {
            let connection = try HostConnection(port: Int(port))
            defer { connection.shut() }
            try connection.write(bytes)
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(connection.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                response += buffer[..<count]
            }
            return String(decoding: response, as: UTF8.self)
        }
    }

    @Test func oversizedMalformedAndPipelinedRequests() async throws {
        let (server, port, task) = try await HealthHTTPServerTests.serve(HealthBoard(HealthHTTPServerTests.report()))
        defer { task.cancel() }
        let usage = { () -> Double in
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        }
        let before = usage()
        // A 1 MiB path: refused once the head passes 8 KiB, without reading the rest.
        let long = Array("GET /\(String(repeating: "a", count: 1 << 20)) HTTP/1.1\r\n\r\n".utf8)
        let refused = try await Self.exchange(long, port: port)
        #expect(refused.hasPrefix("HTTP/1.1 431 "), "\(refused.prefix(100))")
        // FlyingFox spent seconds of CPU on a 100 kB path; this server, nothing worth counting.
        #expect(usage() - before < 0.5 * Double(slowdown))

        let garbage = [
            "\u{0}\u{1}\u{2}\r\n\r\n", "GET\r\n\r\n", "GET health HTTP/1.1\r\n\r\n", "GET / SPDY/3\r\n\r\n",
        ]
        for garbage in garbage {
            let answer = try await Self.exchange(Array(garbage.utf8), port: port)
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(garbage.debugDescription): \(answer.prefix(80))")
        }
        // A body on a POST is not read: the answer comes, then the connection closes.
        let post = try await Self.exchange(
            Array("POST /health HTTP/1.1\r\nContent-Length: 100000000\r\n\r\nxx".utf8),
            port: port
        )
        #expect(post.hasPrefix("HTTP/1.1 405 ") && post.contains("Allow: GET, HEAD"))

        // Two requests in one write on a kept-alive connection: two answers, in order.
        let pipelined = try await Self.exchange(
            Array("GET /health/jack HTTP/1.1\r\n\r\nGET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n".utf8),
            port: port
        )
        // ("\r\n" is one Character in Swift; split on every kind of line end.)
        let statuses = pipelined.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("HTTP/1.1 ") }
        #expect(statuses == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"], "\(pipelined.prefix(400))")

        // More idle connections than the server holds: they are dropped after 5 s of silence, and a
        // real request waiting behind them is then answered.
        let idle = try (0..<40).map { _ in try HostConnection(port: Int(port)) }
        defer { for connection in idle { connection.shut() } }
        #expect(try await httpRequest("GET", "/health", port: port).0 == 200)
        await server.stop()
    }
}

@Suite struct HealthModelTests {
    @Test func statusFollowsTheServices() {
        func report(_ states: [(String, ServiceState)]) -> HealthReport {
            HealthReport(
                uptime: 1,
                services: states.map {
                    ServiceHealth(name: $0.0, state: $0.1, audioPath: ["jack", "host"].contains($0.0))
                }
            )
        }
        #expect(report([("jack", .healthy), ("host", .healthy), ("session", .healthy)]).status == .healthy)
        #expect(report([("jack", .healthy), ("host", .healthy), ("session", .unhealthy)]).status == .degraded)
        #expect(report([("jack", .healthy), ("host", .absent), ("session", .healthy)]).status == .degraded)
        #expect(report([("jack", .unhealthy), ("host", .healthy)]).status == .unhealthy)
        #expect(report([("jack", .healthy), ("host", .starting)]).status == .unhealthy)
        var starting = report([("jack", .starting)])
        starting.phase = .starting
        #expect(starting.status == .starting)
    }

    @Test func statusLineForSystemctl() {
        var session = ServiceHealth(name: "session", state: .healthy)
        session.restarts = 2
        let report = HealthReport(
            uptime: 3 * 3600 + 5,
            services: [ServiceHealth(name: "jack", state: .healthy, audioPath: true), session]
        )
        #expect(SystemdReporter.statusLine(report) == "2/2 healthy · session restarted 2× · up 3h")
        let degraded = HealthReport(
            uptime: 42,
            services: [
                ServiceHealth(name: "jack", state: .healthy, audioPath: true),
                ServiceHealth(name: "host", state: .absent, audioPath: true),
            ]
        )
        #expect(SystemdReporter.statusLine(degraded) == "1/2 healthy (degraded) · host absent · up 42s")
        var bridge = ServiceHealth(name: "bridge", state: .failed)
        bridge.message = "died early 6 times within 60 s; trying again every 5 s"
        let failing = HealthReport(
            uptime: 42,
            services: [ServiceHealth(name: "jack", state: .healthy, audioPath: true), bridge]
        )
        #expect(
            SystemdReporter.statusLine(failing)
                == "1/2 healthy (degraded) · bridge failed: died early 6 times within 60 s; trying again every 5 s · up 42s"
        )
    }

    @Test func boardAdvancesUptimes() async throws {
        var jack = ServiceHealth(name: "jack", state: .healthy, audioPath: true)
        jack.uptime = 1
        let board = HealthBoard(HealthReport(uptime: 10, services: [jack]))
        try await Task.sleep(for: .milliseconds(50))
        let report = board.report
        #expect(report.uptime > 10.04)
        #expect((report.services[0].uptime ?? 0) > 1.04)
    }
}
