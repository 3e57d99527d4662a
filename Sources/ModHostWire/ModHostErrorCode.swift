/// mod-host's error codes (its `src/effects.h` table): the negative status of a `resp` reply.
public enum ModHostErrorCode: Int, Sendable, CaseIterable, CustomStringConvertible {
    case instanceInvalid = -1
    case instanceAlreadyExists = -2
    case instanceNonExists = -3
    case instanceUnlicensed = -4
    case lv2InvalidURI = -101
    case lv2Instantiation = -102
    case lv2InvalidParamSymbol = -103
    case lv2InvalidPresetURI = -104
    case lv2CantLoadState = -105
    case jackClientCreation = -201
    case jackClientActivation = -202
    case jackClientDeactivation = -203
    case jackPortRegister = -204
    case jackPortConnection = -205
    case jackPortDisconnection = -206
    case jackValueOutOfRange = -207
    case assignmentAlreadyExists = -301
    case assignmentInvalidOp = -302
    case assignmentListFull = -303
    case assignmentFailed = -304
    case assignmentUnused = -305
    case controlChainUnavailable = -401
    case abletonLinkUnavailable = -402
    case hmiUnavailable = -403
    case externalUIUnavailable = -404
    case memoryAllocation = -901
    case invalidOperation = -902

    /// The name mod-host's sources and clients use (`ERR_INSTANCE_NON_EXISTS`), which the bridge
    /// passes on to its own clients.
    public var name: String {
        switch self {
        case .instanceInvalid: "ERR_INSTANCE_INVALID"
        case .instanceAlreadyExists: "ERR_INSTANCE_ALREADY_EXISTS"
        case .instanceNonExists: "ERR_INSTANCE_NON_EXISTS"
        case .instanceUnlicensed: "ERR_INSTANCE_UNLICENSED"
        case .lv2InvalidURI: "ERR_LV2_INVALID_URI"
        case .lv2Instantiation: "ERR_LV2_INSTANTIATION"
        case .lv2InvalidParamSymbol: "ERR_LV2_INVALID_PARAM_SYMBOL"
        case .lv2InvalidPresetURI: "ERR_LV2_INVALID_PRESET_URI"
        case .lv2CantLoadState: "ERR_LV2_CANT_LOAD_STATE"
        case .jackClientCreation: "ERR_JACK_CLIENT_CREATION"
        case .jackClientActivation: "ERR_JACK_CLIENT_ACTIVATION"
        case .jackClientDeactivation: "ERR_JACK_CLIENT_DEACTIVATION"
        case .jackPortRegister: "ERR_JACK_PORT_REGISTER"
        case .jackPortConnection: "ERR_JACK_PORT_CONNECTION"
        case .jackPortDisconnection: "ERR_JACK_PORT_DISCONNECTION"
        case .jackValueOutOfRange: "ERR_JACK_VALUE_OUT_OF_RANGE"
        case .assignmentAlreadyExists: "ERR_ASSIGNMENT_ALREADY_EXISTS"
        case .assignmentInvalidOp: "ERR_ASSIGNMENT_INVALID_OP"
        case .assignmentListFull: "ERR_ASSIGNMENT_LIST_FULL"
        case .assignmentFailed: "ERR_ASSIGNMENT_FAILED"
        case .assignmentUnused: "ERR_ASSIGNMENT_UNUSED"
        case .controlChainUnavailable: "ERR_CONTROL_CHAIN_UNAVAILABLE"
        case .abletonLinkUnavailable: "ERR_ABLETON_LINK_UNAVAILABLE"
        case .hmiUnavailable: "ERR_HMI_UNAVAILABLE"
        case .externalUIUnavailable: "ERR_EXTERNAL_UI_UNAVAILABLE"
        case .memoryAllocation: "ERR_MEMORY_ALLOCATION"
        case .invalidOperation: "ERR_INVALID_OPERATION"
        }
    }

    public var description: String { "\(name) (\(rawValue))" }
}
