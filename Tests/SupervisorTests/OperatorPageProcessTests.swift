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

        // Three samples (2 s apart) on the stream: both services, with CPU time and memory.
        let stream = try await Self.exchange(port: stack.httpPort, "GET /events HTTP/1.1\r\n\r\n") {
            Self.events($0).filter { $0["sample"]?["s"]?["jack"]?.arrayValue?[1].doubleValue != nil }.count >= 3
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

    /// Headless Chromium renders the page against the running stack: services listed with their
    /// states, plots drawn with data. Runs only where `chromium` is installed (never installed for
    /// this test); the screenshot is left in the stack's folder's parent as a test artifact.
    @Test(.enabled(if: chromium != nil, "Debian's chromium is not installed"))
    func chromiumRendersServicesAndPlots() async throws {
        let chromium = try #require(Self.chromium)
        let stack = try SupervisorProcessTests.Stack()
        defer { stack.remove() }
        let supervisor = try await stack.start()
        try await eventually {
            guard try await stack.healthReport()["status"] == "healthy" else { throw TestFailure("not healthy") }
        }
        try await Task.sleep(for: .seconds(5))  // a few samples to plot
        let url = "http://127.0.0.1:\(stack.httpPort)/"
        let profile = "\(stack.folder)/chromium"
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)"]
        let dom = try await run(chromium, common + ["--virtual-time-budget=8000", "--dump-dom", url])
        #expect(dom.contains(#"data-service="jack" data-state="healthy""#), "\(dom.prefix(2000))")
        #expect(dom.contains(#"data-service="session" data-state="healthy""#))
        #expect(dom.range(of: #"id="rss" [^>]*data-points="[1-9]"#, options: .regularExpression) != nil)
        let shot = FileManager.default.temporaryDirectory.appendingPathComponent("operator-page.png").path
        _ = try await run(chromium, common + ["--window-size=412,1400", "--screenshot=\(shot)", url])
        #expect(FileManager.default.fileExists(atPath: shot))
        try await supervisor.stop(SIGTERM)
    }

    private func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await onThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
