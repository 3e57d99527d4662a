import Messaging
import Testing

@Suite struct ServicePortsTests {
    @Test func crc32MatchesZlib() {
        // The standard check value of CRC-32/IEEE, and the figure the spec records for the service.
        #expect(CRC32.checksum("123456789".utf8) == 0xCBF4_3926)
        #expect(CRC32.checksum("session_manager".utf8) == 3_908_872_163)
    }

    @Test func sessionManagerGetsTheReferencePorts() {
        let ports = ServicePorts(service: "session_manager")
        #expect(ports.rpc == 5718)
        #expect(ports.pub == 6718)
        #expect(ports.sub == 7718)
        #expect(ports.rpcEndpoint == "tcp://127.0.0.1:5718")
    }

    @Test func otherServicesOfTheSpec() {
        #expect(ServicePorts(service: "config_service").rpc == 6229)
        #expect(ServicePorts(service: "modhost_bridge").rpc == 5684)
    }

    @Test func baseIsConfigurable() {
        #expect(ServicePorts(service: "session_manager", base: 20000).rpc == 20163)
    }
}
