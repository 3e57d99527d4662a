import Foundation
import Messaging
import TestSupport
import Testing

/// `cv_map` and `cv_unmap`: a parameter following a CV signal through a port named after it.
@Suite(.timeLimit(.minutes(5))) struct AudioHostCVTests {
    @Test func aParameterFollowsItsCVSource() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            // The dummy driver's capture ports are silent: 0 V, at the bottom of a `+` range and
            // the top of a `-` range.
            let exchanges: [(String, String)] = [
                ("add \(amp) 0", "resp 0"),
                ("cv_map 77 gain system:capture_1 -10 10 +", "resp -3"),
                ("cv_map 0 gain system:capture_1 -10 10 x", "resp -902"),
                ("cv_map 0 gain system:capture_1 -10 10 ++", "resp -902"),
                ("cv_map 0 gain nosuch:port -10 10 +", "resp -207"),
                ("cv_map 0 nosuch system:capture_1 -10 10 +", "resp -103"),
                ("cv_map 0 gain system:capture_1 -10 10", "few arguments"),
                ("cv_map 0 gain system:capture_1 -10 10 +", "resp 0"),
                ("wait_audio_cycle", "resp 0"),
                ("wait_audio_cycle", "resp 0"),
                ("param_get 0 gain", "resp 0 -10.0000"),
                ("cv_map 0 gain system:capture_1 -10 10 -", "resp 0"),
                ("wait_audio_cycle", "resp 0"),
                ("wait_audio_cycle", "resp 0"),
                ("param_get 0 gain", "resp 0 10.0000"),
                ("disconnect system:capture_1 effect_0:gain", "resp 0"),
                ("cv_unmap 0 gain", "resp 0"),
                ("cv_unmap 0 gain", "resp 0"),
                ("cv_unmap 0 nosuch", "resp -103"),
                ("cv_unmap 77 gain", "resp -3"),
                ("disconnect_all effect_0:gain", "resp -206"),
                ("param_set 0 gain 3", "resp 0"),
                ("wait_audio_cycle", "resp 0"),
                ("param_get 0 gain", "resp 0 3.0000"),
            ]
            for (command, expected) in exchanges {
                let reply = try await client.ask(command)
                #expect(reply == expected, "\(command): \(reply)")
            }
            try await host.process.stop(SIGTERM)
        }
    }
}
