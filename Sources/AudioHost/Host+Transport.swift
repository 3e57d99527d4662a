import ModHostWire

/// mod-host's transport instance: 9995 answers `param_get`/`param_set` for `:bpm`, `:bpb` and
/// `:rolling` (and `:bypass`), so a controller can be mapped to the tempo like to any parameter.
let transportInstance = 9995

/// The JACK transport as the host drives it, and how it is synchronised.
struct TransportState {
    var rolling = false
    var beatsPerBar = 4.0
    var beatsPerMinute = 120.0
    /// `transport_sync`: `none` or `midi` (Ableton Link is not built in).
    var syncMode = "none"
    /// 9995's `:bypass`, kept for the protocol's sake.
    var bypass: Float = 0

    static let tempoRange = 20.0...300.0
    static let beatsPerBarRange = 1.0...16.0
}

extension Host {
    func runTransport(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "transport":
            transport.rolling = arguments.int(0) != 0
            transport.beatsPerBar = arguments.number(1)
            transport.beatsPerMinute = arguments.number(2)
            if transport.rolling { client.startTransport() } else { client.stopTransport() }
            reportTransport()
            return .status(0)
        case "set_bpm":
            let tempo = arguments.number(0)
            guard TransportState.tempoRange.contains(tempo) else {
                throw HostFailure(.jackValueOutOfRange, "tempo \(tempo) is outside 20…300")
            }
            transport.beatsPerMinute = tempo
            reportTransport()
            return .status(0)
        case "set_bpb":
            let beats = arguments.number(0)
            guard TransportState.beatsPerBarRange.contains(beats) else {
                throw HostFailure(.jackValueOutOfRange, "beats per bar \(beats) is outside 1…16")
            }
            transport.beatsPerBar = beats
            reportTransport()
            return .status(0)
        case "transport_sync":
            // As a mod-host built without Ableton Link: `link` is refused and sync falls back to
            // none; `midi` and anything else are accepted (anything else meaning none).
            switch arguments[0] {
            case "link":
                transport.syncMode = "none"
                throw HostFailure(.abletonLinkUnavailable, "Ableton Link is not built in")
            case "midi":
                transport.syncMode = "midi"
                feedback.clientReady()
            default:
                transport.syncMode = "none"
            }
            return .status(0)
        default:
            return nil
        }
    }

    /// 9995's `param_get`. mod-host keeps these as plain 0…1 ports that only MIDI mappings move;
    /// here they are the transport's real tempo, metre and rolling state.
    func transportParameter(_ symbol: String) throws(HostFailure) -> Float {
        switch symbol {
        case ":bpm": Float(transport.beatsPerMinute)
        case ":bpb": Float(transport.beatsPerBar)
        case ":rolling": transport.rolling ? 1 : 0
        case ":bypass": transport.bypass
        case ":presets": 0
        default: throw HostFailure.symbol(symbol)
        }
    }

    /// 9995's `param_set`: tempo and metre clamped into `set_bpm`'s and `set_bpb`'s ranges.
    func setTransportParameter(_ symbol: String, _ value: Double) throws(HostFailure) {
        switch symbol {
        case ":bpm":
            transport.beatsPerMinute = min(max(value, TransportState.tempoRange.lowerBound), 300)
        case ":bpb":
            transport.beatsPerBar = min(max(value, TransportState.beatsPerBarRange.lowerBound), 16)
        case ":rolling":
            transport.rolling = value > 0.5
            if transport.rolling { client.startTransport() } else { client.stopTransport() }
        case ":bypass":
            transport.bypass = Float(min(max(value, 0), 1))
            return
        case ":presets":
            return
        default:
            throw HostFailure.symbol(symbol)
        }
        reportTransport()
    }

    func reportTransport() {
        feedback.append(
            "transport \(transport.rolling ? 1 : 0) \(format6(transport.beatsPerBar)) \(format6(transport.beatsPerMinute))"
        )
    }
}
