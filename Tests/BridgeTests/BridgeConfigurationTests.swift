import Bridge
import Messaging
import Testing

@Suite struct BridgeConfigurationTests {
    @Test func defaultsAreTheCppBridgesOwn() throws {
        let configuration = try BridgeConfiguration(environment: Environment([:]))
        #expect(configuration.modHostHost == "localhost")
        #expect(configuration.modHostPort == 5555)
        #expect(configuration.modHostFeedbackPort == 5556)
        #expect(configuration.replyEndpoint == "tcp://127.0.0.1:6000")
        #expect(configuration.publishEndpoint == "tcp://127.0.0.1:6001")
        #expect(configuration.healthEndpoint == "tcp://127.0.0.1:6002")
        #expect(configuration.jackServer == nil)
    }

    @Test func environmentOverrides() throws {
        let configuration = try BridgeConfiguration(
            environment: Environment([
                "MOD_HOST_HOST": "127.0.0.1", "MOD_HOST_PORT": "15555", "MOD_HOST_FEEDBACK_PORT": "15556",
                "MODHOST_BRIDGE_REP": "tcp://127.0.0.1:16000", "JACK_DEFAULT_SERVER": "marlise",
            ])
        )
        #expect(configuration.modHostPort == 15555)
        #expect(configuration.modHostFeedbackPort == 15556)
        #expect(configuration.replyEndpoint == "tcp://127.0.0.1:16000")
        #expect(configuration.jackServer == "marlise")
    }

    @Test func aBadPortNamesTheVariable() {
        #expect(throws: ConfigurationError(key: "MOD_HOST_PORT", value: "70000", expected: "an integer in 1...65535")) {
            try BridgeConfiguration(environment: Environment(["MOD_HOST_PORT": "70000"]))
        }
    }
}
