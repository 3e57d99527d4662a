import Messaging
import SessionService
import Testing

@Suite struct SessionConfigurationTests {
    @Test func documentedDefaults() throws {
        let configuration = try SessionConfiguration(environment: Environment([:]))
        #expect(configuration.bridgeEndpoint == "tcp://127.0.0.1:6000")
        #expect(configuration.bridgeTimeout == .seconds(5))
        #expect(configuration.bridgeRetries == 5)
        #expect(configuration.bridgeRetryDelay == .seconds(1))
        #expect(configuration.autoCreateDefault == false)
        #expect(configuration.ports.rpc == 5718)
        #expect(configuration.ports.pub == 6718)
        #expect(configuration.bridgeClient.retry == RetryPolicy(attempts: 6, delay: .seconds(1)))
        #expect(configuration.recording.jackServer == nil)
        #expect(configuration.recording.maxLength == .seconds(180))
    }

    @Test func documentedVariablesOverride() throws {
        let configuration = try SessionConfiguration(
            environment: Environment([
                "MODHOST_BRIDGE_ENDPOINT": "tcp://127.0.0.1:16000", "MODHOST_BRIDGE_TIMEOUT": "2.5",
                "BRIDGE_CONNECT_RETRIES": "0", "BRIDGE_CONNECT_RETRY_DELAY": "0.25",
                "SESSION_MANAGER_AUTO_CREATE_DEFAULT": "yes", "ZMQ_BASE_PORT": "20000",
                "JACK_DEFAULT_SERVER": "stage", "SESSION_MANAGER_RECORDING_MAX_SECONDS": "60",
            ])
        )
        #expect(configuration.bridgeEndpoint == "tcp://127.0.0.1:16000")
        #expect(configuration.bridgeTimeout == .milliseconds(2500))
        #expect(configuration.bridgeRetries == 0)  // the reference crashed on 0
        #expect(configuration.bridgeRetryDelay == .milliseconds(250))
        #expect(configuration.autoCreateDefault)
        #expect(configuration.ports.rpc == 20163)
        #expect(configuration.recording.jackServer == "stage")
        #expect(configuration.recording.maxLength == .seconds(60))
    }

    @Test(arguments: [
        ("MODHOST_BRIDGE_TIMEOUT", "soon"), ("MODHOST_BRIDGE_TIMEOUT", "-1"), ("BRIDGE_CONNECT_RETRIES", "many"),
        ("SESSION_MANAGER_AUTO_CREATE_DEFAULT", "maybe"), ("BRIDGE_CONNECT_RETRY_DELAY", "nan"),
    ])
    func unreadableValuesAreRefusedByName(key: String, value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try SessionConfiguration(environment: Environment([key: value]))
        }
        #expect(error?.key == key)
    }
}
