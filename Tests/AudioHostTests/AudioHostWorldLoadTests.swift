import Foundation
import Messaging
import TestSupport
import Testing

/// The host reads its LV2 bundles beside the serving thread: it listens and answers at once,
/// and the commands about plugins wait for the read instead of answering without it.
@Suite(.timeLimit(.minutes(5))) struct AudioHostWorldLoadTests {
    @Test func answersBeforeItsWorldIsReadAndAddsTheRightPluginAfter() async throws {
        try await withJackServer { server in
            let delay = 4.0
            let clock = ContinuousClock()
            let spawned = clock.now
            // The read is held back 4 s: what is answered before then did not wait for it.
            let host = try await RunningHost(
                server: server.name,
                environment: ["MARLISE_HOST_WORLD_DELAY_MS": "\(Int(delay * 1000))"]
            )
            let client = try await host.connect()
            #expect(try await client.ask("cpu_load").hasPrefix("resp 0"))
            #expect(try await client.ask("set_bpm 100") == "resp 0")
            let answered = seconds(clock.now - spawned)
            #expect(answered < delay, "answered \(answered) s after its start, not before its world was read")

            // An add waits for the read, then finds the plugin among every bundle.
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            let added = seconds(clock.now - spawned)
            #expect(added >= delay, "added \(added) s after its start, before its world was read")
            #expect(try await client.ask("param_get 0 gain").hasPrefix("resp 0 "))
            #expect(try await client.ask("add http://drobilla.net/plugins/mda/Leslie 1") == "resp 1")
            #expect(try await client.ask("param_get 1 hi_depth").hasPrefix("resp 0 "))
            // An unknown URI is still unknown once everything is read: not a refusal for want of reading.
            #expect(try await client.ask("add http://example.org/nope 5") == "resp -101")
            try await host.process.stop(SIGTERM)
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
