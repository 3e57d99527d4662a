import Foundation
import LV2
import TestSupport
import Testing

/// MIDI into an instrument's atom port, and instances coming and going beside one that plays.
@Suite(.timeLimit(.minutes(10))) struct AudioHostMIDITests {
    @Test func aNoteThroughAJackMIDIPortSoundsOnAnInstrument() async throws {
        let piano = "http://drobilla.net/plugins/mda/Piano"
        let info = try #require(PluginCatalogue.load().plugin(uri: piano))
        let midiIn = try #require(info.ports.first { $0.kind == .atom && $0.direction == .input && $0.supportsMIDI })
        let left = try #require(info.audioOutputs.first)
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let tone = try ToneClient(server: server.name, amplitude: 0)
            let keys = try KeyboardClient(server: server.name)
            #expect(try await client.ask("add \(piano) 0") == "resp 0")
            #expect(try await client.ask("connect keys:out effect_0:\(midiIn.symbol)") == "resp 0")
            #expect(try await client.ask("connect effect_0:\(left.symbol) meter:in") == "resp 0")
            #expect(try await tone.measure(cycles: 10) < -90, "silent before the note")
            keys.send(note: 60, velocity: 100)
            let start = tone.cycles
            _ = try await tone.measure(cycles: 20)
            let loudest = (start...start + 20).map(tone.level(ofCycle:)).max() ?? -200
            #expect(loudest > -40, "the note played at \(loudest) dBFS")
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func addingAndRemovingInstancesNeverDisturbsAPlayingOne() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let tone = try ToneClient(server: server.name)
            #expect(try await client.ask("add \(amp) 1") == "resp 1")
            #expect(try await client.ask("connect tone:out effect_1:input") == "resp 0")
            #expect(try await client.ask("connect effect_1:output meter:in") == "resp 0")
            _ = try await tone.measure(cycles: 10)
            let start = tone.cycles
            for round in 0..<5 {
                #expect(try await client.ask("add \(overdrive) \(10 + round)") == "resp \(10 + round)")
                #expect(try await client.ask("add \(amp) 20") == "resp 20")
                #expect(try await client.ask("remove \(10 + round)") == "resp 0")
                #expect(try await client.ask("remove 20") == "resp 0")
            }
            let end = tone.cycles
            #expect(end - start > 20, "only \(end - start) cycles measured")
            let levels = (start + 1..<end).map(tone.level(ofCycle:))
            let worst = levels.map { abs($0 - -20) }.max() ?? 0
            #expect(worst <= 0.5, "a cycle strayed \(worst) dB from −20 dBFS while others came and went")
            try await host.process.stop(SIGTERM)
        }
    }
}
