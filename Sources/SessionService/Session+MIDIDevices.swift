public import Messaging

/// The MIDI devices that feed the host: JACK's hardware MIDI sources (ALSA ports, and the ALSA
/// sequencer's where a2jmidid bridges them), wired into the host's `mod-host:midi_in`, through
/// which MIDI learn, mapped controllers and program changes arrive. In aggregated mode (mod-ui's
/// default) every device feeds it; otherwise only those chosen. The choice is the box's, kept in
/// settings and wired again into every new host.
extension Session {
    /// The host's MIDI input, as mod-host names it (marlise-host keeps the name).
    static let hostMIDIInput = "mod-host:midi_in"

    var midiAggregatedMode: Bool { settings[.midi]?["aggregated"]?.boolValue ?? true }
    var chosenMIDIDevices: [String] { settings[.midi]?["devices"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    /// mod-ui's answer (`devsInUse`, `devList`, `names`, `midiAggregatedMode`), with the snake-case
    /// keys Marlise's web API reads beside it.
    public func midiDevices() async throws -> JSONValue {
        let devices = try await hardwareMIDISources()
        var names: [String: JSONValue] = [:]
        for device in devices {
            let alias = try? await bridge.audio("get_jack_port_alias", ["port_name": .string(device)])["alias"]?
                .stringValue
            names[device] = .string(alias ?? String(device.split(separator: ":", maxSplits: 1).last ?? ""))
        }
        let wired = Set(
            (try? await bridge.audio("get_jack_port_connections", ["port": .string(Self.hostMIDIInput)]))?[
                "connections"
            ]?.arrayValue?.compactMap(\.stringValue) ?? []
        )
        let inUse = devices.filter { wired.contains($0) }.map { JSONValue.string($0) }
        let list = devices.map { JSONValue.string($0) }
        return [
            "devs_in_use": .array(inUse), "dev_list": .array(list), "names": .object(names),
            "midi_aggregated_mode": .bool(midiAggregatedMode), "devsInUse": .array(inUse), "devList": .array(list),
            "midiAggregatedMode": .bool(midiAggregatedMode),
        ]
    }

    /// Chooses the devices that feed the host (all of them in aggregated mode) and wires them now.
    public func setMIDIDevices(_ devices: [String], aggregated: Bool) async throws -> JSONValue {
        for device in devices { try Self.checkJackPort(device) }
        guard devices.count <= 256 else { throw RPCError(.invalidParameters, "At most 256 MIDI devices") }
        return try await exclusive {
            try put(.midi, ["devices": .array(devices.map { .string($0) }), "aggregated": .bool(aggregated)])
            try await wireMIDIDevices()
            return ["devs_in_use": .array(devices.map { .string($0) }), "midi_aggregated_mode": .bool(aggregated)]
        }
    }

    /// JACK's hardware MIDI sources (JACK output ports, physical).
    func hardwareMIDISources() async throws(RPCError) -> [String] {
        let reply = try await bridge.audio("get_jack_hardware_ports", ["is_audio": false, "is_output": false])
        return (reply.arrayValue ?? reply["ports"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Makes the host's MIDI input hear exactly the chosen devices that are present.
    func wireMIDIDevices() async throws(RPCError) {
        let devices = try await hardwareMIDISources()
        guard !devices.isEmpty else { return }
        let chosen = Set(chosenMIDIDevices)
        let wired = Set(
            try await bridge.audio("get_jack_port_connections", ["port": .string(Self.hostMIDIInput)])["connections"]?
                .arrayValue?.compactMap(\.stringValue) ?? []
        )
        for device in devices {
            let wanted = midiAggregatedMode || chosen.contains(device)
            guard wanted != wired.contains(device) else { continue }
            try await bridge.audio(
                wanted ? "connect_jack_ports" : "disconnect_jack_ports",
                ["port1": .string(device), "port2": .string(Self.hostMIDIInput)]
            )
        }
    }

    /// After a new host: the devices wired again; a host without a MIDI input is reported, not fatal.
    func applyMIDIDevices() async -> [JSONValue] {
        guard settings[.midi] != nil || midiAggregatedMode else { return [] }
        do {
            try await wireMIDIDevices()
            return []
        } catch {
            return [["midi_devices": .string(Self.hostMIDIInput), "error": .string(error.message)]]
        }
    }
}
