import ModHostWire

/// Commands of mod-host's optional features, answered as a mod-host built without them answers:
/// Control Chain (`cc_*`), the MOD HMI (`hmi_*`), external UIs, and MOD's plugin licensing.
/// Clients such as mod-ui send them regardless and read the code to learn what is missing.
extension Host {
    func runUnavailable(_ name: String, _ arguments: Arguments) -> ModHostReply? {
        switch name {
        case "cc_map":
            // mod-host checks the scale point list before it finds Control Chain missing.
            let points = arguments.int(11)
            if points != 0 && (points == 1 || arguments.count < 12 + 2 * points) {
                return .error(.assignmentInvalidOp)
            }
            return .error(.controlChainUnavailable)
        case "cc_value_set", "cc_unmap":
            return .error(.controlChainUnavailable)
        case "hmi_map", "hmi_unmap":
            return .error(.hmiUnavailable)
        case "show_external_ui":
            return .error(.externalUIUnavailable)
        case "licensee":
            // No plugin here is licensed through MOD's interface: mod-host's answer for an
            // unlicensed or missing instance alike is an empty reply.
            return .text("")
        default:
            return nil
        }
    }
}
