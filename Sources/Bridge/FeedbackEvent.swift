public import Messaging

/// One message of mod-host's feedback port as an event: its type (the message's first word) and
/// its fields by name, numbers as numbers.
public struct FeedbackEvent: Sendable, Equatable {
    public var type: String
    public var data: JSONValue

    /// Parses `line`; `instanceID` names a mod-host instance number as the client knows it.
    public init(_ line: String, instanceID: (Int) -> String? = { _ in nil }) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let name = words.first ?? ""
        let fields = Array(words.dropFirst())
        func number(_ index: Int) -> JSONValue {
            guard index < fields.count else { return .null }
            if let value = Int(fields[index]) { return .int(value) }
            if let value = Double(fields[index]) { return .double(value) }
            return .string(fields[index])
        }
        func text(_ index: Int) -> JSONValue { index < fields.count ? .string(fields[index]) : .null }
        func instance(_ index: Int) -> [String: JSONValue] {
            guard index < fields.count, let value = Int(fields[index]) else { return ["effect_id": text(index)] }
            var members: [String: JSONValue] = ["effect_id": .int(value)]
            if let id = instanceID(value) { members["instance_id"] = .string(id) }
            return members
        }
        var members: [String: JSONValue]
        switch (name, fields.count) {
        case ("output_set", 3), ("param_set", 3), ("param_state", 3):
            members = instance(0)
            members["symbol"] = text(1)
            members["value"] = number(2)
        case ("audio_monitor", 2):
            members = ["index": number(0), "value": number(1)]
        case ("transport", 3):
            members = ["rolling": .bool(fields[0] != "0"), "bpb": number(1), "bpm": number(2)]
        case ("midi_mapped", 7):
            members = instance(0)
            members.merge(
                [
                    "symbol": text(1), "channel": number(2), "controller": number(3), "value": number(4),
                    "minimum": number(5), "maximum": number(6),
                ],
                uniquingKeysWith: { $1 }
            )
        case ("midi_control_change", 3):
            members = ["channel": number(0), "controller": number(1), "value": number(2)]
        case ("midi_program_change", 2):
            members = ["program": number(0), "channel": number(1)]
        case ("patch_set", 4...):
            members = instance(0)
            members["property"] = text(1)
            members["value_type"] = text(2)
            members["value"] = .string(fields[3...].joined(separator: " "))
        case ("log", 2...):
            members = ["level": number(0), "message": .string(fields[1...].joined(separator: " "))]
        case ("cpu_load", 1...):
            members = ["load": number(0)]
            if fields.count > 1 { members["max_load"] = number(1) }
        default:
            type = "unknown"
            data = ["raw": .string(line)]
            return
        }
        type = name
        data = .object(members)
    }
}
