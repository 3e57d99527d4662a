public import Messaging

/// Parameters played by hand: bound to a MIDI controller (learned or named), or to a plugin's CV
/// output. The host does the moving, in its audio thread; the session keeps the bindings with the
/// board, puts them back into every new host, and follows what they move.
extension Session {
    /// What `address_parameter` was asked, as mod-ui's and Marlise's clients send it.
    public struct AddressRequest: Sendable {
        public var instanceID: String
        public var port: String
        /// The actuator: `/midi-learn`, `/midi-unlearn`, `/midi-custom_Ch.<1-16>_CC#<n>`,
        /// `/cv/graph/<instance>/<port>`; empty or `null` removes the binding.
        public var actuator: String?
        public var label: String
        public var minimum: Double?
        public var maximum: Double?
        public var steps: Int
        public var extras: [String: JSONValue]

        public init(
            instanceID: String,
            port: String,
            actuator: String?,
            label: String = "",
            minimum: Double? = nil,
            maximum: Double? = nil,
            steps: Int = 33,
            extras: [String: JSONValue] = [:]
        ) {
            self.instanceID = instanceID
            self.port = port
            self.actuator = actuator
            self.label = label
            self.minimum = minimum
            self.maximum = maximum
            self.steps = steps
            self.extras = extras
        }
    }

    /// Binds, re-binds or unbinds one parameter. A MIDI learn only arms the host: the binding exists
    /// once a controller moves, announced as `midi_mapped`.
    public func address(_ request: AddressRequest) async throws -> JSONValue {
        try PedalboardStore.validate(id: request.instanceID)
        let plugin = try state.instance(request.instanceID)
        let range = try addressableRange(plugin, request.port)
        let minimum = request.minimum ?? range.lowerBound
        let maximum = request.maximum ?? range.upperBound
        guard minimum.isFinite, maximum.isFinite else {
            throw RPCError(.invalidParameters, "'minimum' and 'maximum' must be numbers")
        }
        let actuator = request.actuator.flatMap { $0.isEmpty || $0 == "null" ? nil : $0 }
        if let actuator, actuator != Addressings.midiLearn, actuator != Addressings.midiUnlearn,
            Addressings.midi(actuator) == nil, Addressings.cvSource(actuator) == nil
        {
            throw RPCError(
                .notSupported,
                "'\(actuator)' is not an actuator of this box: MIDI (/midi-learn, /midi-custom_Ch.<1-16>_CC#<n>) and plugin CV outputs (/cv/graph/<instance>/<port>) are; no HMI or Control Chain is attached"
            )
        }
        return try await exclusive {
            let plugin = try state.instance(request.instanceID)
            guard let number = plugin.hostNumber else {
                throw RPCError(.instanceNotFound, "\(request.instanceID) is not in the host")
            }
            let id = request.instanceID
            if actuator == Addressings.midiLearn {
                try await bridge.command(
                    "midi_learn",
                    [.int(number), .string(request.port), .double(minimum), .double(maximum)]
                )
                publish("midi_learning", ["instance_id": .string(id), "symbol": .string(request.port)])
                return ["instance_id": .string(id), "symbol": .string(request.port), "learning": true]
            }
            if let old = state.pedalboard?.addressings.binding(instanceID: id, port: request.port) {
                try await unbindInHost(old, number: number)
                state.pedalboard?.addressings.remove(instanceID: id, port: request.port)
            } else if actuator == Addressings.midiUnlearn {
                // A learn never completed: disarm it.
                try await bridge.command("midi_unmap", [.int(number), .string(request.port)])
            }
            var binding: Addressing?
            if let actuator, actuator != Addressings.midiUnlearn {
                let new = Addressing(
                    actuator: actuator,
                    instanceID: id,
                    port: request.port,
                    label: request.label,
                    minimum: minimum,
                    maximum: maximum,
                    steps: request.steps,
                    extras: request.extras
                )
                try await bindInHost(new, number: number)
                state.pedalboard?.addressings.bindings.append(new)
                binding = new
            }
            state.touch()
            changed()
            let data: JSONValue = [
                "instance_id": .string(id), "symbol": .string(request.port),
                "actuator": binding.map { .string($0.actuator) } ?? .null,
                "minimum": .double(minimum), "maximum": .double(maximum),
            ]
            publish("parameter_addressed", data)
            publishChange("addressing")
            return data
        }
    }

    /// The range a binding may span: the control port's, or 0…1 for `:bypass`.
    func addressableRange(_ plugin: PluginInstance, _ port: String) throws(RPCError) -> ClosedRange<Double> {
        if port == ":bypass" { return 0...1 }
        let info = try catalogue.require(uri: plugin.uri)
        guard let control = info.port(symbol: port), control.kind == .control, control.direction == .input else {
            throw RPCError(.invalidParameters, "'\(port)' is not a control input of \(plugin.uri)")
        }
        let low = control.minimum ?? 0
        let high = control.maximum ?? 1
        return low <= high ? low...high : high...low
    }

    /// Tells the host about one binding (the plugin is instance `number` there).
    func bindInHost(_ binding: Addressing, number: Int) async throws(RPCError) {
        if let midi = binding.midi {
            try await bridge.command(
                "midi_map",
                [
                    .int(number), .string(binding.port), .int(midi.channel), .int(midi.controller),
                    .double(binding.minimum), .double(binding.maximum),
                ]
            )
        } else if let source = Addressings.cvSource(binding.actuator) {
            let mode = binding.extras["operational_mode"]?.stringValue ?? "="
            try await bridge.command(
                "cv_map",
                [
                    .int(number), .string(binding.port),
                    .string(try jackName(plugin: source.instanceID, port: source.port)),
                    .double(binding.minimum), .double(binding.maximum), .string(mode),
                ]
            )
        }
    }

    func unbindInHost(_ binding: Addressing, number: Int) async throws(RPCError) {
        if binding.midi != nil {
            try await bridge.command("midi_unmap", [.int(number), .string(binding.port)])
        } else if Addressings.cvSource(binding.actuator) != nil {
            try await bridge.command("cv_unmap", [.int(number), .string(binding.port)])
        }
    }

    /// Puts every binding of the board back into the host (after a load or a re-sync); failures are
    /// returned, not thrown: one binding the host refuses must not undo the rest.
    func applyAddressings() async -> [JSONValue] {
        var failures: [JSONValue] = []
        for binding in state.pedalboard?.addressings.bindings ?? [] {
            guard let number = state.pedalboard?.plugin(binding.instanceID)?.hostNumber else { continue }
            do {
                try await bindInHost(binding, number: number)
            } catch {
                failures.append(
                    [
                        "instance_id": .string(binding.instanceID), "symbol": .string(binding.port),
                        "actuator": .string(binding.actuator), "error": .string(error.message),
                    ]
                )
            }
        }
        return failures
    }

    // MARK: - CV outputs offered as actuators

    /// Offers a plugin's CV output (`/cv/graph/<instance>/<port>`) as an actuator, under `name`;
    /// answers its operational mode as mod-ui does: `+` unipolar positive, `-` negative, `b` both.
    public func addCVAddressingPort(uri: String, name: String) throws -> JSONValue {
        guard let source = Addressings.cvSource(uri) else {
            throw RPCError(.invalidParameters, "A CV addressing port is /cv/graph/<instance>/<port>")
        }
        guard !name.isEmpty, name.utf8.count <= 128 else {
            throw RPCError(.invalidParameters, "'name' is 1 to 128 bytes")
        }
        let plugin = try state.instance(source.instanceID)
        let info = try catalogue.require(uri: plugin.uri)
        guard let port = info.port(symbol: source.port), port.kind == .cv, port.direction == .output else {
            throw RPCError(.invalidParameters, "'\(source.port)' is not a CV output of \(plugin.uri)")
        }
        state.pedalboard?.addressings.cvPorts[uri] = name
        state.touch()
        changed()
        publishChange("cv_port")
        let low = port.minimum ?? 0
        let high = port.maximum ?? 1
        let mode = low < 0 && high <= 0 ? "-" : low < 0 && high > 0 ? "b" : "+"
        return ["uri": .string(uri), "name": .string(name), "operational_mode": .string(mode)]
    }

    /// Withdraws a CV output as an actuator, unbinding every parameter it moved.
    public func removeCVAddressingPort(uri: String) async throws -> JSONValue {
        guard state.pedalboard?.addressings.cvPorts[uri] != nil else {
            throw RPCError(.notFound, "No CV addressing port \(uri)")
        }
        return try await exclusive {
            for binding in state.pedalboard?.addressings.bindings ?? [] where binding.actuator == uri {
                if let number = state.pedalboard?.plugin(binding.instanceID)?.hostNumber {
                    try? await unbindInHost(binding, number: number)
                }
                state.pedalboard?.addressings.remove(instanceID: binding.instanceID, port: binding.port)
            }
            state.pedalboard?.addressings.cvPorts[uri] = nil
            state.touch()
            changed()
            publishChange("cv_port")
            return ["uri": .string(uri)]
        }
    }
}
