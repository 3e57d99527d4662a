import Foundation
public import Messaging

/// One message the host sent by itself, as the bridge publishes it: the session follows what a MIDI
/// controller, a learned mapping, the level meters and the transport do to the rig.
public struct HostFeedback: Sendable, Equatable {
    /// The bridge's event types the session acts on.
    public enum Kind: String, Sendable, CaseIterable {
        /// A parameter moved by MIDI or CV: `{effect_id, instance_id, symbol, value}`.
        case parameterSet = "param_set"
        /// A learned MIDI mapping: `{effect_id, symbol, channel, controller, value, minimum, maximum}`.
        case midiMapped = "midi_mapped"
        /// A monitored port's peak: `{index, value}`.
        case audioMonitor = "audio_monitor"
        /// `{rolling, bpb, bpm}`.
        case transport
        /// A controller moved while monitored: `{channel, controller, value}`.
        case midiControlChange = "midi_control_change"
        /// `{program, channel}`.
        case midiProgramChange = "midi_program_change"
        /// A plugin changed one of its patch parameters: `{effect_id, property, value_type, value}`.
        case patchSet = "patch_set"

        static let topics: [(Data, Kind)] = allCases.map { (Data($0.rawValue.utf8), $0) }

        /// The kind a topic frame names, or nil for every other event.
        init?(topic: Data) {
            guard let match = Self.topics.first(where: { $0.0 == topic }) else { return nil }
            self = match.1
        }
    }

    public var kind: Kind
    public var data: JSONValue

    public init(kind: Kind, data: JSONValue) {
        self.kind = kind
        self.data = data
    }
}
