import Foundation
import Health
import Messaging
import TestSupport
import Testing

/// The operators' HTTP face, over a real socket on a free port.
@Suite(.serialized, .timeLimit(.minutes(1))) struct HealthHTTPServerTests {
    static func report(jack: ServiceState = .healthy, session: ServiceState = .healthy) -> HealthReport {
        var jackHealth = ServiceHealth(name: "jack", state: jack)
        jackHealth.pid = 4242
        jackHealth.uptime = 12
        jackHealth.probe = ProbeReport(ok: true, latency: .milliseconds(3), at: Date(), error: nil)
        var sessionHealth = ServiceHealth(name: "session", state: session)
        sessionHealth.restarts = 2
        sessionHealth.lastExit = LastExit(code: nil, signal: "SIGKILL", at: Date())
        return HealthReport(uptime: 12.5, services: [jackHealth, sessionHealth])
    }

    /// One request over a plain TCP connection; returns the status code and the body.
    static func request(_ method: String, _ path: String, port: UInt16) async throws -> (Int, String) {
        try await onThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(port.bigEndian)
            address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { throw TestFailure("connect failed") }
            let text = Array("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
            _ = text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                response += buffer[..<count]
            }
            let string = String(decoding: response, as: UTF8.self)
            guard let statusLine = string.split(separator: "\r\n").first,
                let code = Int(statusLine.split(separator: " ")[1])
            else { throw TestFailure("no status line in \(string)") }
            let body = string.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            return (code, body)
        }
    }

    static func serve(_ board: HealthBoard) async throws -> (HealthHTTPServer, UInt16, Task<Void, any Error>) {
        let server = try HealthHTTPServer(port: 0, board: board)
        let task = Task { try await server.run() }
        try await server.waitUntilListening()
        let port = try #require(await server.port)
        return (server, port, task)
    }

    @Test func healthIs200WhenHealthyAnd503WithTheReasonOtherwise() async throws {
        let board = HealthBoard(Self.report())
        let (server, port, task) = try await Self.serve(board)
        let (code, body) = try await Self.request("GET", "/health", port: port)
        #expect(code == 200)
        let json = try JSONValue(parsing: body)
        #expect(json["status"] == "healthy")
        #expect(json["services"]?.arrayValue?.map { $0["name"] } == ["jack", "session"])
        #expect(json["services"]?.arrayValue?.first?["pid"] == 4242)
        #expect(json["services"]?.arrayValue?.last?["last_exit"]?["signal"] == "SIGKILL")

        board.post(Self.report(session: .unhealthy))
        let (down, downBody) = try await Self.request("GET", "/health", port: port)
        #expect(down == 503)
        let downJSON = try JSONValue(parsing: downBody)
        #expect(downJSON["status"] == "degraded")
        #expect(downJSON["services"]?.arrayValue?.last?["state"] == "unhealthy")
        await server.stop()
        task.cancel()
    }

    @Test func oneServiceUnknownPathsAndMethods() async throws {
        let (server, port, task) = try await Self.serve(HealthBoard(Self.report()))
        let (code, body) = try await Self.request("GET", "/health/jack", port: port)
        #expect(code == 200)
        #expect(try JSONValue(parsing: body)["name"] == "jack")
        #expect(try await Self.request("GET", "/health/nosuch", port: port).0 == 404)
        #expect(try await Self.request("GET", "/elsewhere", port: port).0 == 404)
        #expect(try await Self.request("POST", "/health", port: port).0 == 405)
        #expect(try await Self.request("DELETE", "/metrics", port: port).0 == 405)
        let (head, headBody) = try await Self.request("HEAD", "/health", port: port)
        #expect(head == 200)
        #expect(headBody.isEmpty)
        await server.stop()
        task.cancel()
    }

    @Test func metricsParseAsPrometheusText() async throws {
        let (server, port, task) = try await Self.serve(HealthBoard(Self.report()))
        let (code, body) = try await Self.request("GET", "/metrics", port: port)
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

@Suite struct HealthModelTests {
    @Test func statusFollowsTheServices() {
        func report(_ states: [(String, ServiceState)]) -> HealthReport {
            HealthReport(uptime: 1, services: states.map { ServiceHealth(name: $0.0, state: $0.1) })
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
            services: [ServiceHealth(name: "jack", state: .healthy), session]
        )
        #expect(SystemdReporter.statusLine(report) == "2/2 healthy · session restarted 2× · up 3h")
        let degraded = HealthReport(
            uptime: 42,
            services: [ServiceHealth(name: "jack", state: .healthy), ServiceHealth(name: "host", state: .absent)]
        )
        #expect(SystemdReporter.statusLine(degraded) == "1/2 healthy (degraded) · host absent · up 42s")
    }

    @Test func boardAdvancesUptimes() async throws {
        var jack = ServiceHealth(name: "jack", state: .healthy)
        jack.uptime = 1
        let board = HealthBoard(HealthReport(uptime: 10, services: [jack]))
        try await Task.sleep(for: .milliseconds(50))
        let report = board.report
        #expect(report.uptime > 10.04)
        #expect((report.services[0].uptime ?? 0) > 1.04)
    }
}
