import Foundation
import Messaging
import TestSupport
import Testing

/// Commands of mod-host's optional features, answered as a mod-host built without Control Chain,
/// the HMI, Ableton Link, external UIs and MOD licensing answers them.
@Suite(.timeLimit(.minutes(5))) struct AudioHostOptionalFeatureTests {
    @Test func answersAsABuildWithoutOptionalFeatures() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp 0"),
                // Control Chain: the scale point list is checked first, then -401.
                ("cc_map 0 gain 1 2 \"Gain\" 0 -70 70 33 0 dB 0", "resp -401"),
                ("cc_map 77 gain 1 2 Gain 0 -70 70 33 0 dB 0", "resp -401"),
                ("cc_map 0 gain 1 2 Gain 0 -70 70 33 0 dB 1 low 0", "resp -302"),
                ("cc_map 0 gain 1 2 Gain 0 -70 70 33 0 dB 2 low 0", "resp -302"),
                ("cc_map 0 gain 1 2 Gain 0 -70 70 33 0 dB 2 low 0 high 1", "resp -401"),
                ("cc_map 0 gain 1 2 Gain 0 -70 70 33 0 dB", "few arguments"),
                ("cc_map 0 gain x 2 Gain 0 -70 70 33 0 dB 0", "invalid argument"),
                ("cc_value_set 0 gain 1", "resp -401"),
                ("cc_value_set 0 gain", "few arguments"),
                ("cc_unmap 0 gain", "resp -401"),
                ("cc_unmap 0 gain 1", "many arguments"),
                // The HMI.
                ("hmi_map 0 gain 1 0 0 0 0 Gain -70 70 33", "resp -403"),
                ("hmi_map 0 gain 1 0 0 0 0 Gain -70 70", "few arguments"),
                ("hmi_unmap 0 gain", "resp -403"),
                ("hmi_unmap 0", "few arguments"),
                // External UIs and licences.
                ("show_external_ui 0", "resp -404"),
                ("show_external_ui x", "invalid argument"),
                ("licensee 0", ""),
                ("licensee 77", ""),
                ("licensee", "few arguments"),
                // Ableton Link.
                ("transport_sync link", "resp -402"),
                ("transport_sync none", "resp 0"),
                ("transport_sync midi", "resp 0"),
                ("transport_sync whatever", "resp 0"),
                ("transport_sync", "few arguments"),
                // State scratch folder; an empty quoted argument is an argument.
                ("state_tmpdir /tmp/marlise-scratch", "resp 0"),
                ("state_tmpdir \"\"", "resp 0"),
                ("state_tmpdir", "few arguments"),
                ("state_tmpdir a b", "many arguments"),
                // Patch messages: amp has no atom input to take them.
                ("patch_get 0 urn:x", "resp -902"),
                ("patch_set 0 urn:x 1", "resp -902"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }
}
