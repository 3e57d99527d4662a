import Foundation
import TestSupport
import Testing

/// How soon a mapped controller is heard: a CC from a JACK client into `mod-host:midi_in` moves
/// swh amp's gain, and the tone's level through it changes in the cycle the CC arrives in (or the
/// next; the median is held to three, the figure printed). Also the DSP load with a controller moving every cycle beside none, printed for the notes.
@Suite(.timeLimit(.minutes(5))) struct AudioHostMIDILatencyTests {
    @Test func aMappedControllerIsHeardWithinCycles() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let tone = try ToneClient(server: server.name)
            let keys = try KeyboardClient(server: server.name)
            for command in [
                "add \(amp) 0", "connect tone:out effect_0:input", "connect effect_0:output meter:in",
                "connect keys:out mod-host:midi_in",
            ] {
                #expect(try await client.ask(command) == "resp 0", "\(command)")
            }
            #expect(try await client.ask("midi_map 0 gain 0 7 -20 0") == "resp 1")
            #expect(abs(try await tone.measure() - -20) <= 0.5)
            var latencies: [Int] = []
            for round in 0..<10 {
                let quiet = round % 2 == 0
                let before = tone.cycles
                keys.send(channel: 0, controller: 7, value: quiet ? 0 : 127)
                let target = quiet ? -40.0 : -20.0
                _ = try await tone.measure(cycles: 8)
                let arrival = (before...before + 8).first { abs(tone.level(ofCycle: $0) - target) <= 0.5 }
                latencies.append(try #require(arrival, "round \(round): the CC was never heard") - before)
            }
            // The figure is the benchmark's (printed below); the test holds the median to a few
            // cycles, as a machine busy with other work may run the keyboard's cycle late now and then.
            let typical = latencies.sorted()[latencies.count / 2]
            #expect(typical <= 3, "heard \(latencies) cycles after the CC was sent")
            print("MEASURE mapped CC heard after \(latencies) cycles (256 frames at 48 kHz: 5.33 ms each)")

            // The DSP load with a controller moving every cycle, beside none: the mapping's cost
            // in the audio thread, as JACK measures the whole cycle.
            func load() async throws -> Double {
                let reply = try await client.ask("cpu_load")
                return Double(reply.split(separator: " ").last ?? "") ?? .nan
            }
            var idle: [Double] = []
            var moving: [Double] = []
            for _ in 0..<20 {
                try await Task.sleep(for: .milliseconds(50))
                idle.append(try await load())
            }
            for step in 0..<20 {
                for value in 0..<10 {
                    keys.send(channel: 0, controller: 7, value: UInt8((step * 10 + value) % 128))
                    try await Task.sleep(for: .milliseconds(5))
                }
                moving.append(try await load())
            }
            let median = { (values: [Double]) in values.sorted()[values.count / 2] }
            print("MEASURE DSP load median idle \(median(idle)) %, with a mapped CC every cycle \(median(moving)) %")
            try await host.process.stop(SIGTERM)
        }
    }
}
