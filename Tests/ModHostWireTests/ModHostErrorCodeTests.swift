import ModHostWire
import Testing

@Suite struct ModHostErrorCodeTests {
    @Test func codesAndNamesAsModHostsTable() {
        let table = Dictionary(uniqueKeysWithValues: ModHostErrorCode.allCases.map { ($0.rawValue, $0.name) })
        #expect(
            table == [
                -1: "ERR_INSTANCE_INVALID", -2: "ERR_INSTANCE_ALREADY_EXISTS", -3: "ERR_INSTANCE_NON_EXISTS",
                -4: "ERR_INSTANCE_UNLICENSED", -101: "ERR_LV2_INVALID_URI", -102: "ERR_LV2_INSTANTIATION",
                -103: "ERR_LV2_INVALID_PARAM_SYMBOL", -104: "ERR_LV2_INVALID_PRESET_URI",
                -105: "ERR_LV2_CANT_LOAD_STATE", -201: "ERR_JACK_CLIENT_CREATION",
                -202: "ERR_JACK_CLIENT_ACTIVATION", -203: "ERR_JACK_CLIENT_DEACTIVATION",
                -204: "ERR_JACK_PORT_REGISTER", -205: "ERR_JACK_PORT_CONNECTION", -206: "ERR_JACK_PORT_DISCONNECTION",
                -207: "ERR_JACK_VALUE_OUT_OF_RANGE", -301: "ERR_ASSIGNMENT_ALREADY_EXISTS",
                -302: "ERR_ASSIGNMENT_INVALID_OP", -303: "ERR_ASSIGNMENT_LIST_FULL", -304: "ERR_ASSIGNMENT_FAILED",
                -305: "ERR_ASSIGNMENT_UNUSED", -401: "ERR_CONTROL_CHAIN_UNAVAILABLE",
                -402: "ERR_ABLETON_LINK_UNAVAILABLE", -403: "ERR_HMI_UNAVAILABLE", -404: "ERR_EXTERNAL_UI_UNAVAILABLE",
                -901: "ERR_MEMORY_ALLOCATION", -902: "ERR_INVALID_OPERATION",
            ]
        )
        #expect(ModHostErrorCode(rawValue: -3) == .instanceNonExists)
        #expect(ModHostErrorCode(rawValue: 0) == nil)
        #expect(ModHostErrorCode.invalidOperation.description == "ERR_INVALID_OPERATION (-902)")
    }

    @Test func parserErrorsAsWrittenAndNamed() {
        #expect(
            ModHostParserError.allCases.map(\.rawValue) == [
                "not found", "few arguments", "many arguments", "invalid argument",
            ]
        )
        #expect(
            ModHostParserError.allCases.map(\.name) == [
                "NOT_FOUND", "FEW_ARGUMENTS", "MANY_ARGUMENTS", "INVALID_ARGUMENT",
            ]
        )
    }

    @Test func failuresNameTheirCode() {
        #expect(ModHostFailure(code: -101).name == "ERR_LV2_INVALID_URI")
        #expect(ModHostFailure(code: -101).description == "ERR_LV2_INVALID_URI (-101)")
        #expect(ModHostFailure(code: -7).name == "ERR_UNKNOWN")
        #expect(ModHostFailure(code: 0, name: "FAILED").description == "FAILED")
    }
}
