import Foundation
import Messaging
import TestSupport
import Testing

let sampler = "http://lv2plug.in/plugins/eg-sampler"
let samplerSample = "http://lv2plug.in/plugins/eg-sampler#sample"

/// `patch_set` / `patch_get` on Debian's eg-sampler: a file parameter reaches the plugin as a
/// `patch:Set`, its worker loads it, a note plays it, and its replies come back as feedback.
@Suite(.timeLimit(.minutes(10))) struct AudioHostPatchTests {
    @Test func aSampleSetByPatchPlaysOnANoteAndIsReportedBack() async throws {
        let wav = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-sine-\(getpid()).wav")
        try sineWAV(seconds: 0.5, frequency: 440).write(to: wav)
        defer { try? FileManager.default.removeItem(at: wav) }
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let feedback = try await host.connectFeedback()
            let tone = try ToneClient(server: server.name, amplitude: 0)
            let keys = try KeyboardClient(server: server.name)
            #expect(try await client.ask("add \(sampler) 0") == "resp 0")
            #expect(try await client.ask("connect keys:out effect_0:control") == "resp 0")
            #expect(try await client.ask("connect effect_0:out meter:in") == "resp 0")

            #expect(try await client.ask("patch_set 0 \(samplerSample) \"\(wav.path)\"") == "resp 0")
            // The worker loads the file; the plugin then announces it.
            let announced = "patch_set 0 \(samplerSample) p \(wav.path)"
            let loaded = try await nextFeedback(feedback, client, matching: announced)
            #expect(loaded != nil, "no '\(announced)'")

            #expect(try await tone.measure(cycles: 10) < -90, "silent before the note")
            keys.send(note: 60, velocity: 100)
            let start = tone.cycles
            _ = try await tone.measure(cycles: 40)
            let loud = (start...start + 40).map(tone.level(ofCycle:)).filter { $0 > -40 }
            // The bundle's own click is shorter than one period; half a second of sine is many.
            #expect(loud.count >= 5, "the sample sounded for \(loud.count) periods")

            #expect(try await client.ask("patch_get 0 \(samplerSample)") == "resp 0")
            let answered = try await nextFeedback(feedback, client, matching: announced)
            #expect(answered != nil, "patch_get not answered")

            // A load in flight when the instance goes: its worker finishes before the plugin is freed.
            #expect(try await client.ask("patch_set 0 \(samplerSample) \"\(wav.path)\"") == "resp 0")
            #expect(try await client.ask("remove 0") == "resp 0")
            #expect(try await client.ask("add \(sampler) 0") == "resp 0")
            try await host.process.stop(SIGTERM)
            #expect(host.process.process.terminationStatus == 0)
        }
    }

    @Test func badArgumentsAnswerAsModHost() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let exchanges = [
                ("patch_set 3 \(samplerSample) /tmp/x.wav", "resp -3"),
                ("patch_get 3 \(samplerSample)", "resp -3"),
                ("add \(sampler) 0", "resp 0"),
                ("add \(amp) 1", "resp 1"),
                ("patch_set 0 urn:marlise:none 1", "resp -101"),
                ("patch_get 0 urn:marlise:none", "resp -101"),
                // param:gain is an atom:Float: a word is not one (mod-host would send 0).
                ("patch_set 0 http://lv2plug.in/ns/ext/parameters#gain loud", "resp -902"),
                ("patch_set 0 http://lv2plug.in/ns/ext/parameters#gain -3", "resp 0"),
                ("patch_get 0 http://lv2plug.in/ns/ext/parameters#gain", "resp 0"),
                // amp has no atom input for patch messages.
                ("patch_get 1 urn:marlise:none", "resp -902"),
                ("patch_set 1 urn:marlise:none 1", "resp -902"),
                ("patch_set 0 \(samplerSample)", "few arguments"),
                ("patch_set x \(samplerSample) /tmp/x.wav", "invalid argument"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }

    /// The feedback line `matching`, if it comes within about ten seconds; each batch is
    /// acknowledged so the next one comes.
    private func nextFeedback(
        _ feedback: HostConnection,
        _ client: HostConnection,
        matching: String
    ) async throws
        -> String?
    {
        try await onThread { () throws -> String? in
            for _ in 0..<200 {
                guard let line = try feedback.message() else { continue }
                if line == matching { return line }
                if line == "data_finish" { _ = try client.call("output_data_ready") }
            }
            return nil
        }
    }
}
