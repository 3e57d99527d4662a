import Messaging

/// What the host did by itself, followed: a knob a MIDI controller or CV moved is the board's new
/// value (journaled, announced, saved); a learned controller becomes a binding; meter readings and
/// transport changes are announced.
extension Session {
    /// Follows the host's feedback until the bridge client shuts down.
    func followHost() async {
        for await feedback in bridge.hostFeedback { follow(feedback) }
    }

    func follow(_ feedback: HostFeedback) {
        let data = feedback.data
        switch feedback.kind {
        case .parameterSet:
            guard let plugin = plugin(hostNumber: data["effect_id"]?.intValue),
                let symbol = data["symbol"]?.stringValue, let value = data["value"]?.doubleValue, value.isFinite
            else { return }
            if symbol == ":bypass" {
                state.setEnabled(plugin.instanceID, value < 0.5)
                changed()
                publish(
                    "plugin_bypassed",
                    ["instance_id": .string(plugin.instanceID), "bypassed": .bool(value >= 0.5)]
                )
                return
            }
            guard plugin.parameters[symbol] != value else { return }
            state.setParameter(plugin.instanceID, symbol, value)
            changed(instanceID: plugin.instanceID, symbol: symbol, value: value)
            announceParameter(
                ParameterLanes.Key(instanceID: plugin.instanceID, symbol: symbol),
                [
                    "instance_id": .string(plugin.instanceID), "parameter": .string(symbol), "value": .double(value),
                    "source": "host",
                ]
            )
        case .midiMapped:
            guard let plugin = plugin(hostNumber: data["effect_id"]?.intValue),
                let symbol = data["symbol"]?.stringValue, let channel = data["channel"]?.intValue,
                let controller = data["controller"]?.intValue
            else { return }
            let minimum = data["minimum"]?.doubleValue ?? 0
            let maximum = data["maximum"]?.doubleValue ?? 1
            let actuator = Addressings.midiURI(channel: channel, controller: controller)
            state.pedalboard?.addressings.remove(instanceID: plugin.instanceID, port: symbol)
            state.pedalboard?.addressings.bindings.append(
                Addressing(
                    actuator: actuator,
                    instanceID: plugin.instanceID,
                    port: symbol,
                    minimum: minimum,
                    maximum: maximum
                )
            )
            if let value = data["value"]?.doubleValue, value.isFinite, symbol != ":bypass" {
                state.setParameter(plugin.instanceID, symbol, value)
            }
            state.touch()
            changed()
            publish(
                "midi_mapped",
                [
                    "instance_id": .string(plugin.instanceID), "symbol": .string(symbol), "actuator": .string(actuator),
                    "channel": .int(channel), "controller": .int(controller), "minimum": .double(minimum),
                    "maximum": .double(maximum),
                ]
            )
            publishChange("addressing")
        case .audioMonitor:
            guard let index = data["index"]?.intValue, let value = data["value"]?.doubleValue, value.isFinite else {
                return
            }
            recordLevel(index: index, value: value)
        case .transport:
            if let bpm = data["bpm"]?.doubleValue, let bpb = data["bpb"]?.doubleValue {
                recordTempo(bpm: bpm, bpb: bpb)
            }
            publish("transport_changed", data)
        case .midiControlChange:
            publish("midi_control_change", data)
        case .midiProgramChange:
            publish("midi_program_change", data)
        case .patchSet:
            guard let plugin = plugin(hostNumber: data["effect_id"]?.intValue),
                let property = data["property"]?.stringValue, let value = data["value"]?.stringValue,
                let index = state.pedalboard?.pluginIndex(plugin.instanceID), plugin.patch[property] != value
            else { return }
            state.pedalboard?.plugins[index].patch[property] = value
            changed()
            publish(
                "patch_parameter_changed",
                ["instance_id": .string(plugin.instanceID), "uri": .string(property), "value": .string(value)]
            )
        }
    }

    func plugin(hostNumber: Int?) -> PluginInstance? {
        guard let hostNumber else { return nil }
        return state.plugins.first { $0.hostNumber == hostNumber }
    }
}
