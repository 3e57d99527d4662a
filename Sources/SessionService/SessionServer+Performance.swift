import Messaging

extension SessionServer {
    /// What a performer plays with besides the knobs: parameters bound to MIDI controllers and CV
    /// outputs, and the transport's clock.
    static func registerPerformance(_ router: inout RPCRouter, _ session: Session) {
        router.method("address_parameter") { request in
            let instanceID = try request.string(oneOf: ["instance_id", "instance"])
            let port = try request.string(oneOf: ["symbol", "port", "parameter"])
            // `uri` as the web client and mod-ui send it; null or "" removes the binding.
            let actuator = try request.optionalString("uri") ?? request.optionalString("actuator_uri")
            var extras: [String: JSONValue] = [:]
            for key in ["tempo", "dividers", "page", "subpage", "coloured", "momentary", "operational_mode"] {
                if let value = request.params[key], !value.isNull { extras[key] = value }
            }
            let steps = try request.optionalInt("steps") ?? 33
            guard (1...10000).contains(steps) else { throw RPCError(.invalidParameters, "'steps' is 1 to 10000") }
            return try await session.address(
                Session.AddressRequest(
                    instanceID: instanceID,
                    port: port,
                    actuator: actuator,
                    label: try request.optionalString("label") ?? "",
                    minimum: try request.optionalDouble("minimum"),
                    maximum: try request.optionalDouble("maximum"),
                    steps: steps,
                    extras: extras
                )
            )
        }
        for name in ["set_patch_parameter", "patch_set"] {
            router.method(name) { request in
                let value: String
                switch request.params["value"] {
                case .string(let text)?: value = text
                case .int(let number)?: value = String(number)
                case .double(let number)?: value = String(number)
                default: throw RPCError(.invalidParameters, "'value' is a string or a number")
                }
                return try await session.setPatchParameter(
                    try request.string(oneOf: ["instance_id", "instance"]),
                    property: try request.string(oneOf: ["uri", "property"]),
                    value: value
                )
            }
        }
        router.method("add_cv_addressing_port") { request in
            try await session.addCVAddressingPort(uri: try request.string("uri"), name: try request.string("name"))
        }
        router.method("remove_cv_addressing_port") { request in
            try await session.removeCVAddressingPort(uri: try request.string("uri"))
        }
        router.method("set_transport_sync_mode") { request in
            try await session.setTransportSyncMode(try request.string("mode"))
        }
        router.method("get_midi_devices") { _ in try await session.midiDevices() }
        router.method("set_midi_devices") { request in
            guard let list = request.params["devs_in_use"] ?? request.params["devs"], let values = list.arrayValue,
                values.allSatisfy({ $0.stringValue != nil })
            else { throw RPCError(.invalidParameters, "'devs_in_use' must be a list of JACK port names") }
            let aggregated =
                try request.optionalBool("midi_aggregated_mode") ?? request.optionalBool("midiAggregatedMode") ?? true
            return try await session.setMIDIDevices(values.compactMap(\.stringValue), aggregated: aggregated)
        }
        router.method("get_transport_sync_mode") { _ in ["mode": .string(await session.transportSyncMode)] }
    }
}
