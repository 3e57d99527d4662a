import Jack
import Messaging

/// `{"action": "audio", "method": …}`: JACK through the bridge's own client, never through mod-host.
extension Bridge {
    static let audioContext = "Audio command failed"

    /// Ports other JACK clients (mod-ui's helpers) provide, by the `has_*` method that asks for them.
    static let knownPorts: [String: String] = [
        "has_midi_beat_clock_sender_port": "effect_9993:mclk",
        "has_serial_midi_input_port": "ttymidi:MIDI_in",
        "has_serial_midi_output_port": "ttymidi:MIDI_out",
        "has_midi_merger_output_port": "mod-midi-merger:out",
        "has_midi_broadcaster_input_port": "mod-midi-broadcaster:in",
    ]

    func audioAction(_ object: [String: JSONValue]) async throws(BridgeError) -> JSONValue {
        guard let method = object["method"]?.stringValue else {
            throw BridgeError(.invalidRequest, "\(Self.audioContext): missing 'method' field")
        }
        let fields = RequestFields(object, method: method, context: Self.audioContext)
        switch method {
        case "init_jack":
            try await audio.open()
            return ["success": true]
        case "close_jack":
            audio.close()
            return ["success": true]
        case "get_jack_data":
            let client = try audio.client()
            var data: JSONValue = ["cpu_load": .double(Double(client.cpuLoad)), "xruns": .int(client.xruns)]
            if try fields.optionalBool("with_transport") ?? true {
                let transport = client.transport
                data = .object(
                    (data.objectValue ?? [:]).merging(
                        [
                            "rolling": .bool(transport.rolling), "bpm": .double(transport.beatsPerMinute ?? 120),
                            "bpb": .double(transport.beatsPerBar ?? 4),
                        ],
                        uniquingKeysWith: { $1 }
                    )
                )
            }
            return data
        case "get_jack_buffer_size": return ["buffer_size": .int(Int(try audio.client().bufferSize))]
        case "set_jack_buffer_size":
            let size = try fields.int("size")
            guard (16...8192).contains(size), size & (size - 1) == 0 else {
                throw fields.failure("'size' must be a power of two from 16 to 8192, not \(size)")
            }
            let client = try audio.client()
            do { try client.setBufferSize(UInt32(size)) } catch { throw Self.audioFailure(error) }
            return ["buffer_size": .int(Int(client.bufferSize))]
        case "get_jack_sample_rate": return ["sample_rate": .double(Double(try audio.client().sampleRate))]
        case "get_jack_port_alias":
            let client = try audio.client()
            let port = try portName(fields, "port_name")
            guard client.hasPort(port) else { throw BridgeError(.notFound, "\(Self.audioContext): no port \(port)") }
            return ["alias": client.aliases(of: port).first.map { .string($0) } ?? .null]
        case "get_jack_hardware_ports":
            let client = try audio.client()
            let isAudio = try fields.bool("is_audio")
            // `is_output` means the system's outputs (playback), which are JACK input ports.
            let isOutput = try fields.bool("is_output")
            return .array(
                client.ports(type: isAudio ? .audio : .midi, direction: isOutput ? .input : .output, physical: true)
                    .map { .string($0) }
            )
        case "connect_jack_ports", "disconnect_jack_ports":
            let client = try audio.client()
            let (first, second) = (try portName(fields, "port1"), try portName(fields, "port2"))
            do {
                if method == "connect_jack_ports" {
                    try client.connect(first, second)
                } else {
                    try client.disconnect(first, second)
                }
            } catch { throw Self.audioFailure(error) }
            return ["success": true]
        case "get_jack_port_connections":
            // Ours: what JACK itself has wired to a port, so a client can check the rig, not its memory.
            let client = try audio.client()
            let port = try portName(fields, "port")
            guard client.hasPort(port) else { throw BridgeError(.notFound, "\(Self.audioContext): no port \(port)") }
            return [
                "port": .string(port), "connections": .array(client.connections(of: port).sorted().map { .string($0) }),
            ]
        case "disconnect_all_jack_ports":
            let client = try audio.client()
            let port = try portName(fields, "port")
            do { try client.disconnectAll(port) } catch { throw Self.audioFailure(error) }
            return ["success": true]
        case "connect_jack_midi_output_ports", "disconnect_jack_midi_output_ports":
            let client = try audio.client()
            let port = try portName(fields, "port")
            let broadcaster = "mod-midi-broadcaster:in"
            guard client.hasPort(broadcaster) else {
                throw BridgeError(
                    .audioError,
                    "\(Self.audioContext): no \(broadcaster) (mod-midi-broadcaster is not running)"
                )
            }
            do {
                if method.hasPrefix("connect") {
                    try client.connect(port, broadcaster)
                } else {
                    try client.disconnect(port, broadcaster)
                }
            } catch { throw Self.audioFailure(error) }
            return ["success": true]
        case "reset_xruns":
            try audio.client().resetXruns()
            return ["success": true]
        case "has_duox_split_spdif": return ["has_feature": false]
        default:
            if let port = Self.knownPorts[method] { return ["has_port": .bool(try audio.client().hasPort(port))] }
            throw BridgeError(.methodNotFound, "\(Self.audioContext): Unknown audio command method: \(method)")
        }
    }

    /// A port name, with a bridge instance id translated (`plugin_0_…:in` → `effect_0:in`).
    private func portName(_ fields: RequestFields, _ key: String) throws(BridgeError) -> String {
        let name = try fields.string(key)
        return registry.withLock { Self.translate(name, $0) }
    }

    static func audioFailure(_ error: JackError) -> BridgeError {
        BridgeError(.audioError, "\(audioContext): \(error)", underlying: error)
    }
}
