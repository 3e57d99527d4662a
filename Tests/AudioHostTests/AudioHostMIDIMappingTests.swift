import Foundation
import Messaging
import TestSupport
import Testing

/// MIDI on the host's `midi_in`: `midi_learn`, `midi_map` and `midi_unmap`, controllers moving
/// parameters (feedback `midi_mapped` and `param_set`), and monitored control and program changes.
@Suite(.timeLimit(.minutes(5))) struct AudioHostMIDIMappingTests {
    @Test func controllersMoveMappedParameters() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let feedback = try await host.connectFeedback()
            let keys = try KeyboardClient(server: server.name)
            /// Feedback lines until one starts with `prefix` (batches are acknowledged on the way).
            func awaitFeedback(_ prefix: String) async throws -> String? {
                try await onThread { () throws -> String? in
                    for _ in 0..<40 {
                        guard let line = try feedback.message() else { continue }
                        if line.hasPrefix(prefix) { return line }
                        if line == "data_finish" { _ = try client.call("output_data_ready") }
                    }
                    return nil
                }
            }
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp 0"),
                ("connect keys:out mod-host:midi_in", "resp 0"),
                ("midi_learn 77 gain 0 1", "resp 0"),
                ("midi_learn 0 nosuch 0 1", "resp 0"),
                ("midi_learn 0 gain -10 10", "resp 1"),
                ("midi_learn 0 gain", "few arguments"),
                ("midi_map 0 gain 0 7 -70 70", "resp 1"),
                ("midi_map 0 nosuch 0 7 0 1", "resp 0"),
                ("midi_map 0 gain x 7 0 1", "invalid argument"),
                ("midi_unmap 0 gain", "resp 1"),
                ("midi_unmap 0 gain", "resp 0"),
                ("midi_unmap 77 gain", "resp 0"),
                ("midi_learn 0 gain -10 10", "resp 1"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            // Learning takes the first controller that is not mapped.
            try await Task.sleep(for: .milliseconds(100))
            keys.send(channel: 2, controller: 21, value: 127)
            #expect(try await awaitFeedback("midi_mapped") == "midi_mapped 0 gain 2 21 10.000000 -10.000000 10.000000")
            #expect(try await client.ask("param_get 0 gain") == "resp 0 10.0000")
            // From then on it moves the parameter in the audio thread and is reported.
            keys.send(channel: 2, controller: 21, value: 0)
            #expect(try await awaitFeedback("param_set") == "param_set 0 gain -10.000000")
            #expect(try await client.ask("param_get 0 gain") == "resp 0 -10.0000")
            // A mapping to :bypass, and to the transport's tempo.
            #expect(try await client.ask("midi_map 0 :bypass 0 1 0 1") == "resp 1")
            keys.send(channel: 0, controller: 1, value: 0)
            #expect(try await awaitFeedback("param_set 0 :bypass") == "param_set 0 :bypass 1.000000")
            #expect(try await client.ask("param_get 0 :bypass") == "resp 0 1.0000")
            #expect(try await client.ask("midi_map 9995 :bpm 0 2 20 300") == "resp 1")
            keys.send(channel: 0, controller: 2, value: 127)
            #expect(try await awaitFeedback("param_set 9995") == "param_set 9995 :bpm 300.000000")
            #expect(try await client.ask("param_get 9995 :bpm") == "resp 0 300.0000")
            // Unmapped controllers and program changes are reported on monitored channels only.
            #expect(try await client.ask("monitor_midi_control 3 1") == "resp 0")
            #expect(try await client.ask("monitor_midi_program 3 1") == "resp 0")
            keys.send(channel: 3, controller: 64, value: 100)
            #expect(try await awaitFeedback("midi_control_change") == "midi_control_change 3 64 100")
            keys.send(channel: 3, program: 5)
            #expect(try await awaitFeedback("midi_program_change") == "midi_program_change 5 3")
            // MIDI beat clock drives the transport once `transport_sync midi` is on.
            #expect(try await client.ask("set_bpm 100") == "resp 0")
            #expect(try await client.ask("transport_sync midi") == "resp 0")
            try await Task.sleep(for: .milliseconds(100))
            keys.send(realtime: 0xFA)
            #expect(try await awaitFeedback("transport 1") != nil)
            keys.clock(true)
            let cycle = Double(keys.client.bufferSize)
            let tempo = min(max((60 * Double(keys.client.sampleRate) / (cycle * 24) * 100).rounded() / 100, 20), 300)
            // One tick a cycle: the tempo follows from the cycle's length (clamped to 20…300).
            #expect(try await awaitFeedback("transport 1 4.000000 " + String(format: "%f", tempo)) != nil)
            let expected = "resp 0 " + String(format: "%.4f", tempo)
            try await eventually(within: .seconds(5)) {
                let reply = try client.call("param_get 9995 :bpm")
                guard reply == expected else { throw TestFailure("tempo \(reply), expected \(expected)") }
            }
            keys.clock(false)
            keys.send(realtime: 0xFC)
            #expect(try await awaitFeedback("transport 0") != nil)
            #expect(try await client.ask("transport_sync none") == "resp 0")
            // Removing the instance drops its mappings.
            #expect(try await client.ask("remove 0") == "resp 0")
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("midi_unmap 0 gain") == "resp 0")
            withExtendedLifetime(keys) {}
            try await host.process.stop(SIGTERM)
        }
    }
}
