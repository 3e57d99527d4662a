import Foundation
import Health
import Locking
import Messaging
import TestSupport
import Testing

/// The operator's page over a real socket: the page itself, its event stream, and its actions.
@Suite(.serialized, .timeLimit(.minutes(1))) struct OperatorPageTests {
    static func serve(
        host: String = "127.0.0.1",
        history: HealthHistory,
        actions: OperatorActions? = nil
    ) async throws -> (HealthHTTPServer, UInt16, Task<Void, any Error>) {
        let board = HealthBoard(HealthHTTPServerTests.report())
        let server = try HealthHTTPServer(host: host, port: 0, board: board, history: history, actions: actions)
        let task = Task { try await server.run() }
        let port = try #require(await server.port)
        return (server, port, task)
    }

    @Test func pageIsHTMLWithNothingFromElsewhere() async throws {
        let (server, port, task) = try await Self.serve(history: HealthHistory())
        let client = try RawHTTPClient(port: port)
        defer { client.shut() }
        client.send("GET", "/", headers: ["Connection: close"])
        let response = client.read()
        let parts = response.components(separatedBy: "\r\n\r\n")
        let head = parts[0].lowercased()
        let body = parts.dropFirst().joined(separator: "\r\n\r\n")
        #expect(head.hasPrefix("http/1.1 200"))
        #expect(head.contains("content-type: text/html; charset=utf-8"))
        #expect(head.contains("content-security-policy: default-src 'self'"))
        #expect(body.hasPrefix("<!doctype html>"))
        #expect(body.hasSuffix("</html>"))
        for external in ["http://", "https://", "//cdn", "src=\"", "@import", "url("] {
            #expect(!body.contains(external), "the page refers elsewhere: \(external)")
        }
        print("operator page weight: \(body.utf8.count) bytes")
        #expect(body.utf8.count < 20_000)
        #expect(try await httpRequest("GET", "/history", port: port).0 == 200)
        #expect(try await httpRequest("GET", "/favicon.ico", port: port) == (204, ""), "no 404 in the console")
        await server.stop()
        task.cancel()
    }

    @Test func eventStreamPushesEachSampleAndLogLine() async throws {
        let history = HealthHistory()
        let (server, port, task) = try await Self.serve(history: history)
        let events = try await onThread {
            let client = try RawHTTPClient(port: port)
            defer { client.shut() }
            client.send("GET", "/events")
            let first = client.read { $0.contains("\"health\"") && $0.hasSuffix("\n\n") }
            // A change of health alone (no sample yet) is an event too.
            history.touch()
            let touched = client.read { $0.hasSuffix("\n\n") }
            #expect(touched.hasPrefix("event: sample\ndata: {"))
            history.record(HistorySample(time: 1234.5, services: [ServiceSample(name: "jack", state: .healthy)]))
            history.log("jack", "2026-01-01 stdout hello")
            let later = client.read { $0.contains("hello") && $0.hasSuffix("\n\n") }
            return (first, later)
        }
        #expect(events.0.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"))
        #expect(!events.0.lowercased().contains("content-length"))
        #expect(events.0.contains("event: sample\ndata: {"))
        #expect(events.1.contains("1234.5"))
        #expect(events.1.contains("2026-01-01 stdout hello"))
        // Each event's data is one JSON object.
        for line in (events.0 + events.1).split(separator: "\n") where line.hasPrefix("data: ") {
            let json = try JSONValue(parsing: Data(line.dropFirst(6).utf8))
            #expect(json["health"]?["services"]?.arrayValue?.count == 2)
        }
        // The server keeps answering others while the stream is open.
        #expect(try await httpRequest("GET", "/health", port: port).0 == 200)
        await server.stop()
        task.cancel()
    }

    @Test func streamsAreBounded() async throws {
        let (server, port, task) = try await Self.serve(history: HealthHistory())
        let answers = try await onThread {
            var clients: [RawHTTPClient] = []
            defer { for client in clients { client.shut() } }
            var answers: [String] = []
            for _ in 0...4 {
                let client = try RawHTTPClient(port: port)
                clients.append(client)
                client.send("GET", "/events")
                answers.append(
                    client.read { $0.hasSuffix("\n\n") && $0.contains("data:") || $0.hasPrefix("HTTP/1.1 503") }
                )
            }
            return answers
        }
        #expect(answers.prefix(4).allSatisfy { $0.hasPrefix("HTTP/1.1 200") })
        #expect(answers[4].hasPrefix("HTTP/1.1 503"))
        await server.stop()
        task.cancel()
    }

    @Test func actionsFromLoopbackWithTheHeader() async throws {
        let done = Locked<[String]>([])
        let actions = OperatorActions { name, action in done.withLock { $0.append("\(action.rawValue) \(name)") } }
        let (server, port, task) = try await Self.serve(history: HealthHistory(), actions: actions)
        func post(_ path: String, _ headers: [String]) async throws -> String {
            try await onThread {
                let client = try RawHTTPClient(port: port)
                defer { client.shut() }
                client.send("POST", path, headers: headers + ["Content-Length: 0", "Connection: close"])
                return client.read()
            }
        }
        #expect(try await post("/services/jack/restart", ["X-Marlise-Action: 1"]).hasPrefix("HTTP/1.1 202"))
        #expect(try await post("/services/jack/restart", []).hasPrefix("HTTP/1.1 403"))
        #expect(try await post("/services/nosuch/stop", ["X-Marlise-Action: 1"]).hasPrefix("HTTP/1.1 404"))
        #expect(try await post("/services/jack/explode", ["X-Marlise-Action: 1"]).hasPrefix("HTTP/1.1 404"))
        #expect(try await post("/health", []).hasPrefix("HTTP/1.1 405"))
        for _ in 0..<200 where done.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(done.withLock { $0 } == ["restart jack"])
        await server.stop()
        task.cancel()
    }

    @Test(.enabled(if: RawHTTPClient.outsideAddress() != nil, "this machine has no address but loopback"))
    func actionsFromElsewhereAreRefusedWithoutTheToken() async throws {
        let outside = try #require(RawHTTPClient.outsideAddress())
        let done = Locked(0)
        let actions = OperatorActions(token: "s3cret") { _, _ in done.withLock { $0 += 1 } }
        let (server, port, task) = try await Self.serve(host: "0.0.0.0", history: HealthHistory(), actions: actions)
        func post(_ headers: [String]) async throws -> String {
            try await onThread {
                let client = try RawHTTPClient(host: outside, port: port, from: outside)
                defer { client.shut() }
                client.send(
                    "POST",
                    "/services/jack/stop",
                    headers: headers + ["X-Marlise-Action: 1", "Connection: close"]
                )
                return client.read()
            }
        }
        let refused = try await post([])
        #expect(refused.hasPrefix("HTTP/1.1 403"))
        #expect(refused.contains("need the token"))
        #expect(try await post(["Authorization: Bearer wrong"]).hasPrefix("HTTP/1.1 403"))
        #expect(try await post(["Authorization: Bearer s3cret"]).hasPrefix("HTTP/1.1 202"))
        await server.stop()
        task.cancel()
    }
}
