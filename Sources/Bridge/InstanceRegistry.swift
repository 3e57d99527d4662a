import Foundation
public import Messaging

/// One loaded plugin as the bridge tracks it: the client's id and mod-host's instance number.
public struct PluginInstance: Sendable, Equatable {
    /// The id clients use, `plugin_<number>_<8 hex>` as the C++ bridge's.
    public var id: String
    /// mod-host's instance number, 0…9999; its JACK client is `effect_<number>`.
    public var number: Int
    public var uri: String
    public var name: String
    public var brand: String
    public var version: String
    public var x: Double
    public var y: Double
    public var parameters: [String: Double]
    public var ports: JSONValue
    public var enabled = true
    public var preset: String?
    public var createdAt: String

    public var json: JSONValue {
        [
            "instance_id": .string(id), "modhost_instance": .int(number), "jack_client": .string("effect_\(number)"),
            "uri": .string(uri), "name": .string(name), "brand": .string(brand), "version": .string(version),
            "x": .double(x), "y": .double(y), "parameters": .object(parameters.mapValues { .double($0) }),
            "ports": ports, "enabled": .bool(enabled), "preset": preset.map { .string($0) } ?? .string(""),
            "created_at": .string(createdAt),
        ]
    }
}

/// Maps client instance ids to mod-host's numbers and back; hands out the number asked for when
/// free, else the lowest free one.
///
/// A number is reserved before `add` is sent and committed only when mod-host said yes, so two
/// concurrent loads never get the same number and a refused load leaves nothing behind.
public struct InstanceRegistry: Sendable {
    /// mod-host accepts 0…9999 (its README says 9990, its code 9999).
    public static let numbers = 0...9999

    private var byID: [String: PluginInstance] = [:]
    private var idByNumber: [Int: String] = [:]
    private var reserved: Set<Int> = []

    public init() {}

    /// `preferred` if it is free (a client putting a rig back under its old numbers), else the
    /// lowest number neither used nor reserved; now reserved. `nil` when all 10,000 are taken.
    public mutating func reserve(preferring preferred: Int? = nil) -> Int? {
        if let preferred, Self.numbers.contains(preferred), idByNumber[preferred] == nil,
            !reserved.contains(preferred)
        {
            reserved.insert(preferred)
            return preferred
        }
        guard let number = Self.numbers.first(where: { idByNumber[$0] == nil && !reserved.contains($0) }) else {
            return nil
        }
        reserved.insert(number)
        return number
    }

    public mutating func release(_ number: Int) { reserved.remove(number) }

    /// A fresh id for `number`.
    public static func makeID(_ number: Int) -> String {
        "plugin_\(number)_" + String(format: "%08x", UInt32.random(in: 0...UInt32.max))
    }

    public mutating func commit(_ instance: PluginInstance) {
        reserved.remove(instance.number)
        byID[instance.id] = instance
        idByNumber[instance.number] = instance.id
    }

    @discardableResult
    public mutating func remove(_ id: String) -> PluginInstance? {
        guard let instance = byID.removeValue(forKey: id) else { return nil }
        idByNumber[instance.number] = nil
        return instance
    }

    public subscript(id: String) -> PluginInstance? {
        get { byID[id] }
        set {
            guard let newValue, byID[id] != nil else { return }
            byID[id] = newValue
        }
    }

    public func id(number: Int) -> String? { idByNumber[number] }

    /// The instance a client named, by its id or by mod-host's number.
    public func find(_ reference: JSONValue) -> PluginInstance? {
        if let text = reference.stringValue {
            if let instance = byID[text] { return instance }
            if let number = Int(text), let id = idByNumber[number] { return byID[id] }
            return nil
        }
        if let number = reference.intValue, let id = idByNumber[number] { return byID[id] }
        return nil
    }

    public var all: [PluginInstance] { byID.values.sorted { $0.number < $1.number } }

    public var isEmpty: Bool { byID.isEmpty }
}
