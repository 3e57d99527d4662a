import Foundation
import Jack
import Messaging
import TestSupport
import Testing

/// The JACK liveness watch against a real jackd: cycles advancing, a frozen server, a dead one and
/// its replacement.
@Suite(.serialized, .timeLimit(.minutes(10))) struct JackWatchTests {
    @Test func seesCyclesStopWhenTheServerFreezesAndFollowsAReplacement() async throws {
        try await withJackServer { server in
            let watch = JackWatch(server: server.name)
            defer { watch.close() }
            try await onThread { try watch.check().get() }
            try await Task.sleep(for: .milliseconds(50))  // ~9 cycles of 256 frames at 48 kHz
            try await onThread { try watch.check().get() }

            kill(server.process.pid, SIGSTOP)
            try await Task.sleep(for: .milliseconds(50))
            // The cycle under way when the server stopped is the last one; one check may still see it.
            _ = await onThread { watch.check() }
            try await Task.sleep(for: .milliseconds(50))
            let frozen = await onThread { watch.check() }
            kill(server.process.pid, SIGCONT)
            guard case .failure(let failure) = frozen else {
                Issue.record("a frozen server passed the check")
                return
            }
            #expect(failure.description.contains("no audio cycle"))
            try await Task.sleep(for: .milliseconds(50))
            try await onThread { try watch.check().get() }

            try await server.kill()
            try await eventually {
                if case .success = await onThread({ watch.check() }) { throw TestFailure("still up") }
            }

            // A new server under the same name: the watch opens a new client on it.
            let replacement = try await TestProcess(
                "/usr/bin/jackd",
                ["--no-realtime", "-n", server.name, "-d", "dummy", "-r", "48000", "-p", "256"],
                log: FileManager.default.temporaryDirectory.appendingPathComponent("\(server.name)-again.log")
            )
            defer { kill(replacement.pid, SIGKILL) }
            try await eventually { try await onThread { try watch.check().get() } }
            try await Task.sleep(for: .milliseconds(50))
            try await onThread { try watch.check().get() }
            watch.close()
            try await replacement.stop(SIGTERM)
        }
    }
}
