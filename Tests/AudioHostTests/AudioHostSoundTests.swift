import Foundation
import Jack
import Messaging
import TestSupport
import Testing

let amp = "http://plugin.org.uk/swh-plugins/amp"
let overdrive = "http://drobilla.net/plugins/mda/Overdrive"

/// Real sound through marlise-host: a 1 kHz sine at −20 dBFS into swh `amp`, measured at its output.
@Suite(.timeLimit(.minutes(10))) struct AudioHostSoundTests {
    @Test func ampGainBypassAndRemoveOnRealSound() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let tone = try ToneClient(server: server.name)
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("connect tone:out effect_0:input") == "resp 0")
            #expect(try await client.ask("connect effect_0:output meter:in") == "resp 0")

            #expect(try await client.ask("param_set 0 gain 6") == "resp 0")
            let boosted = try await tone.measure()
            #expect(abs(boosted - -14) <= 0.5, "gain +6 dB reads \(boosted) dBFS")

            // The new value is heard within two periods of the reply.
            let before = tone.cycles
            #expect(try await client.ask("param_set 0 gain -6") == "resp 0")
            _ = try await tone.measure(cycles: 10)
            let arrival = (before...before + 10).first { abs(tone.level(ofCycle: $0) - -26) <= 0.5 }
            let heardAfter = try #require(arrival, "gain −6 dB never heard") - before
            #expect(heardAfter <= 2, "heard \(heardAfter) cycles after the reply")

            #expect(try await client.ask("bypass 0 1") == "resp 0")
            let bypassed = try await tone.measure()
            #expect(abs(bypassed - -20) <= 0.5, "bypass reads \(bypassed) dBFS")
            #expect(try await client.ask("bypass 0 0") == "resp 0")
            #expect(abs(try await tone.measure() - -26) <= 0.5)

            #expect(try await client.ask("remove 0") == "resp 0")
            #expect(tone.source.ports(matching: "^effect_0:").isEmpty)
            #expect(try await tone.measure() < -90, "silence once the plugin is gone")
            try await host.process.stop(SIGTERM)
            #expect(host.process.process.terminationStatus == 0)
        }
    }

    @Test func twoPluginChainPassesSignal() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let tone = try ToneClient(server: server.name)
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("add \"\(overdrive)\" 1") == "resp 1")
            for (from, to) in [
                ("tone:out", "effect_0:input"), ("effect_0:output", "effect_1:left_in"),
                ("effect_1:left_out", "meter:in"),
            ] {
                #expect(try await client.ask("connect \(from) \(to)") == "resp 0")
            }
            let level = try await tone.measure()
            #expect(level > -40, "the chain passes \(level) dBFS")
            // Removing the first plugin silences the chain without disturbing the second.
            #expect(try await client.ask("remove 0") == "resp 0")
            #expect(try await tone.measure() < -90)
            #expect(try await client.ask("param_get 1 drive") == "resp 0 0.0000")
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func exitsNonZeroWhenJackDies() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let feedback = try await host.connectFeedback()
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            let clock = ContinuousClock()
            let killed = clock.now
            try await server.kill()
            await onThread { host.process.process.waitUntilExit() }
            let took = clock.now - killed
            #expect(host.process.process.terminationStatus != 0)
            #expect(took < Duration.seconds(1).scaled, "exited \(took) after jackd's death")
            let report = try await onThread { try feedback.message() }
            #expect(report?.hasPrefix("log 3 JACK server went away") == true, "feedback said \(report ?? "nothing")")
            #expect(host.logText.contains("JACK went away"))
        }
    }
}
