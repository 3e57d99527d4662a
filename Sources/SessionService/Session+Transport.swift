public import Messaging

/// The transport: tempo and beats per bar belong to the board (saved in it, as mod-ui saves them);
/// where the clock comes from (`none`, MIDI clock in, Ableton Link) is the box's, kept in settings.
extension Session {
    /// mod-ui's sync modes and the host's words for them.
    static let syncModes: [String: String] = ["none": "none", "midi_clock_slave": "midi", "link": "link"]

    public var transportSyncMode: String {
        settings[.transport]?["sync_mode"]?.stringValue ?? "none"
    }

    /// Sets where the transport's clock comes from. Ableton Link needs a host built with it: a host
    /// without it refuses, and the mode stays `none`.
    public func setTransportSyncMode(_ requested: String) async throws -> JSONValue {
        let mode = requested.hasPrefix("/") ? String(requested.dropFirst()) : requested
        guard let word = Self.syncModes[mode] else {
            throw RPCError(.invalidParameters, "'mode' is none, midi_clock_slave or link")
        }
        return try await exclusive {
            do throws(RPCError) {
                try await bridge.command("transport_sync", [.string(word)])
            } catch {
                guard mode == "link" && bridge.status.bridgeConnected else { throw error }
                try put(.transport, ["sync_mode": "none"])
                throw RPCError(.notSupported, "Ableton Link is not available in this host: \(error.message)")
            }
            try put(.transport, ["sync_mode": .string(mode)])
            publish("transport_sync_changed", ["mode": .string(mode)])
            return ["mode": .string(mode)]
        }
    }

    /// Starts or stops the transport and sets its tempo and beats per bar; what is not given stays.
    /// Tempo and beats per bar are saved with the board.
    public func setTransport(rolling: Bool?, bpm: Double?, bpb: Double?) async throws -> JSONValue {
        if let bpm, !(20...280).contains(bpm) { throw RPCError(.invalidParameters, "'bpm' is 20 to 280") }
        if let bpb, !(1...16).contains(bpb) { throw RPCError(.invalidParameters, "'bpb' is 1 to 16") }
        return try await exclusive {
            let now = try await bridge.audio("get_jack_data", ["with_transport": true])
            let playing = rolling ?? now["rolling"]?.boolValue ?? false
            let tempo = bpm ?? state.pedalboard?.metadata["bpm"]?.doubleValue ?? now["bpm"]?.doubleValue ?? 120
            let bar = bpb ?? state.pedalboard?.metadata["bpb"]?.doubleValue ?? now["bpb"]?.doubleValue ?? 4
            try await bridge.command("transport", [playing ? 1 : 0, .double(bar), .double(tempo)])
            recordTempo(bpm: tempo, bpb: bar)
            let data: JSONValue = ["rolling": .bool(playing), "bpb": .double(bar), "bpm": .double(tempo)]
            publish("transport_changed", data)
            return data
        }
    }

    /// Keeps the board's tempo and beats per bar (a change the host reported, or one asked for).
    func recordTempo(bpm: Double, bpb: Double) {
        guard state.pedalboard != nil,
            state.pedalboard?.metadata["bpm"]?.doubleValue != bpm
                || state.pedalboard?.metadata["bpb"]?.doubleValue != bpb
        else { return }
        state.pedalboard?.metadata["bpm"] = .double(bpm)
        state.pedalboard?.metadata["bpb"] = .double(bpb)
        changed()
    }

    /// Puts the clock source, the board's tempo and beats per bar back into a new host.
    func applyTransport() async -> [JSONValue] {
        var failures: [JSONValue] = []
        let mode = transportSyncMode
        if mode != "none" {
            do {
                try await bridge.command("transport_sync", [.string(Self.syncModes[mode] ?? "none")])
            } catch {
                failures.append(["transport_sync": .string(mode), "error": .string(error.message)])
            }
        }
        // Both read before either is sent: the host reports its transport after `set_bpm` (with its
        // metre still the default), and following that report while awaiting would make the board's
        // own metre the host's default before `set_bpb` is sent.
        let saved = [("set_bpm", "bpm"), ("set_bpb", "bpb")].compactMap { command, key in
            state.pedalboard?.metadata[key]?.doubleValue.map { (command, key, $0) }
        }
        for (command, key, value) in saved {
            do {
                try await bridge.command(command, [.double(value)])
            } catch {
                failures.append([.init(stringLiteral: key): .double(value), "error": .string(error.message)])
            }
        }
        return failures
    }
}
