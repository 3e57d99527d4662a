public import Messaging

/// One parameter bound to an actuator: a MIDI controller (`/midi-custom_Ch.1_CC#7`), a plugin's CV
/// output (`/cv/graph/<instance>/<port>`), or anything else mod-ui names (kept, not acted on).
public struct Addressing: Sendable, Equatable {
    public var actuator: String
    public var instanceID: String
    /// The control port's symbol, or `:bypass`.
    public var port: String
    public var label: String
    public var minimum: Double
    public var maximum: Double
    public var steps: Int
    /// mod-ui's other fields (`tempo`, `dividers`, `page`, `subpage`, `coloured`, `momentary`,
    /// `operational_mode`), kept as given.
    public var extras: [String: JSONValue]

    public init(
        actuator: String,
        instanceID: String,
        port: String,
        label: String = "",
        minimum: Double,
        maximum: Double,
        steps: Int = 33,
        extras: [String: JSONValue] = [:]
    ) {
        self.actuator = actuator
        self.instanceID = instanceID
        self.port = port
        self.label = label
        self.minimum = minimum
        self.maximum = maximum
        self.steps = steps
        self.extras = extras
    }

    /// mod-ui's entry: the instance as its graph path.
    var json: JSONValue {
        var members = extras
        members["instance"] = .string(Addressings.graphPrefix + instanceID)
        members["port"] = .string(port)
        members["label"] = .string(label)
        members["minimum"] = .double(minimum)
        members["maximum"] = .double(maximum)
        members["steps"] = .int(steps)
        return .object(members)
    }

    init?(actuator: String, json: JSONValue) {
        guard case .object(var members) = json, let instance = members.removeValue(forKey: "instance")?.stringValue,
            let port = members.removeValue(forKey: "port")?.stringValue
        else { return nil }
        let id =
            instance.hasPrefix(Addressings.graphPrefix)
            ? String(instance.dropFirst(Addressings.graphPrefix.count)) : instance
        guard !id.isEmpty else { return nil }
        self.init(
            actuator: actuator,
            instanceID: id,
            port: port,
            label: members.removeValue(forKey: "label")?.stringValue ?? "",
            minimum: members.removeValue(forKey: "minimum")?.doubleValue ?? 0,
            maximum: members.removeValue(forKey: "maximum")?.doubleValue ?? 1,
            steps: members.removeValue(forKey: "steps")?.intValue ?? 33,
            extras: members
        )
    }

    /// The MIDI channel (0-based) and controller this addressing listens to, if it is a MIDI one.
    public var midi: (channel: Int, controller: Int)? { Addressings.midi(actuator) }
}

/// A pedalboard's addressings in the shape of mod-ui's `addressings.json`: each actuator's URI
/// with its list of bindings, and each plugin CV output offered as an actuator with its name and
/// bindings (`{"name", "addrs"}`). The same document is the bundle's file and the v1 JSON's key.
public struct Addressings: Sendable, Equatable {
    static let graphPrefix = "/graph/"
    public static let midiLearn = "/midi-learn"
    public static let midiUnlearn = "/midi-unlearn"
    public static let midiCustomPrefix = "/midi-custom_"
    public static let cvPrefix = "/cv"

    public var bindings: [Addressing] = []
    /// Plugin CV outputs offered as actuators: URI → name.
    public var cvPorts: [String: String] = [:]

    public init() {}

    public var isEmpty: Bool { bindings.isEmpty && cvPorts.isEmpty }

    public func binding(instanceID: String, port: String) -> Addressing? {
        bindings.first { $0.instanceID == instanceID && $0.port == port }
    }

    @discardableResult
    public mutating func remove(instanceID: String, port: String) -> Addressing? {
        guard let index = bindings.firstIndex(where: { $0.instanceID == instanceID && $0.port == port }) else {
            return nil
        }
        return bindings.remove(at: index)
    }

    /// Forgets a plugin that left the board: its bindings and the CV outputs it offered.
    public mutating func removeAll(instanceID: String) {
        bindings.removeAll { $0.instanceID == instanceID }
        let prefix = Self.cvPrefix + Self.graphPrefix + instanceID + "/"
        for uri in cvPorts.keys where uri.hasPrefix(prefix) { cvPorts[uri] = nil }
        bindings.removeAll { $0.actuator.hasPrefix(prefix) }
    }

    /// The actuator URI mod-ui gives a MIDI controller (channel 0-based, shown 1-based).
    public static func midiURI(channel: Int, controller: Int) -> String {
        "\(midiCustomPrefix)Ch.\(channel + 1)_CC#\(controller)"
    }

    /// Reads mod-ui's `/midi-custom_Ch.<1-16>_CC#<0-127>` (and the plain `/midi-custom_<1-16>_<cc>`).
    public static func midi(_ actuator: String) -> (channel: Int, controller: Int)? {
        guard actuator.hasPrefix(midiCustomPrefix) else { return nil }
        var rest = actuator.dropFirst(midiCustomPrefix.count)
        if rest.hasPrefix("Ch.") { rest = rest.dropFirst(3) }
        let parts = rest.replacingOccurrences(of: "_CC#", with: "_").split(separator: "_")
        guard parts.count == 2, let channel = Int(parts[0]), let controller = Int(parts[1]),
            (1...16).contains(channel), (0...127).contains(controller)
        else { return nil }
        return (channel - 1, controller)
    }

    /// The instance and port of a plugin CV output actuator, `/cv/graph/<instance>/<port>`.
    public static func cvSource(_ actuator: String) -> (instanceID: String, port: String)? {
        let prefix = cvPrefix + graphPrefix
        guard actuator.hasPrefix(prefix) else { return nil }
        let parts = actuator.dropFirst(prefix.count).split(separator: "/")
        guard parts.count == 2 else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        for binding in bindings {
            members[binding.actuator, default: []] = .array(
                (members[binding.actuator]?.arrayValue ?? []) + [binding.json]
            )
        }
        for (uri, name) in cvPorts {
            members[uri] = ["name": .string(name), "addrs": members[uri] ?? []]
        }
        return .object(members)
    }

    /// Reads the document; entries it cannot read are skipped (a foreign writer's HMI pages, say).
    public init(json: JSONValue?) {
        guard case .object(let members)? = json else { return }
        for (uri, value) in members.sorted(by: { $0.key < $1.key }) {
            var entries = value.arrayValue ?? []
            if case .object(let port) = value, let name = port["name"]?.stringValue {
                cvPorts[uri] = name
                entries = port["addrs"]?.arrayValue ?? []
            } else if case .object(let group) = value, let addrs = group["addrs"]?.arrayValue {
                entries = addrs
            }
            bindings += entries.compactMap { Addressing(actuator: uri, json: $0) }
        }
    }
}
