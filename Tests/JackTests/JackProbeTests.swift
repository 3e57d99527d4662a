import Foundation
import Jack
import Messaging
import TestSupport
import Testing

/// The JACK readiness probe against a real jackd on the dummy driver, under a server name of its own.
@Suite(.serialized, .timeLimit(.minutes(10))) struct JackProbeTests {
    @Test func reportsAnAbsentServer() {
        let outcome = JackProbe.check(server: "marlise-absent-\(getpid())")
        guard case .failure(let error) = outcome else {
            Issue.record("probe of an absent server succeeded")
            return
        }
        #expect(error.description.contains("cannot connect to the server"))
    }

    @Test func seesARealServerComeAndGo() async throws {
        try await withJackAlone {
            let server = freeJackServerName()
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(server).log")
            let jackd = try await TestProcess(
                "/usr/bin/jackd",
                ["--no-realtime", "-n", server, "-d", "dummy", "-r", "48000", "-p", "256"],
                log: log
            )
            // Fails the test (by throwing) if the server never accepts a client.
            try await eventually {
                try await onThread { try JackProbe.check(server: server).get() }
            }
            try await jackd.stop(SIGTERM)
            #expect(jackd.process.terminationStatus == 0 || jackd.process.terminationReason == .uncaughtSignal)
            let afterwards = await onThread { JackProbe.check(server: server) }
            #expect((try? afterwards.get()) == nil)
        }
    }
}
