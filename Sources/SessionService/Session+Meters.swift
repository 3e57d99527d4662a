import Foundation
public import Messaging

/// Level meters: the host watches the board's inputs (`system:capture_*`) and what feeds its
/// outputs, and reports each one's peak (`audio_monitor <index> <value>`); the session keeps the
/// latest and announces them as `audio_levels` at most 20 times a second each, a rate a UI draws.
extension Session {
    static let meterInterval: Duration = .milliseconds(50)

    /// The ports a meter follows: the board's inputs, then every port wired to its outputs.
    func meteredPorts() -> [String] {
        guard let board = state.pedalboard else { return [] }
        var ports = board.systemInputs
        for connection in board.connections where connection.targetPlugin == Connection.system {
            if let source = try? jackName(plugin: connection.sourcePlugin, port: connection.sourcePort),
                !ports.contains(source)
            {
                ports.append(source)
            }
        }
        return ports
    }

    /// The latest level of each metered port (`null` until the host reported one), asking the host
    /// to watch any port it does not watch yet.
    public func audioLevelReadings() async throws -> JSONValue {
        for port in meteredPorts() where !audioMonitors.contains(port) {
            try await bridge.command("monitor_audio_levels", [.string(port), 1])
            audioMonitors.append(port)
        }
        var levels: [String: JSONValue] = [:]
        for (index, port) in audioMonitors.enumerated() {
            levels[port] = audioLevels[index].map { .double($0) } ?? .null
        }
        return ["levels": .object(levels)]
    }

    /// Keeps a reading and announces it, unless this port was announced less than an interval ago.
    func recordLevel(index: Int, value: Double) {
        audioLevels[index] = value
        let now = ContinuousClock.now
        if let last = levelAnnounced[index], now - last < Self.meterInterval { return }
        levelAnnounced[index] = now
        let port = audioMonitors.indices.contains(index) ? JSONValue.string(audioMonitors[index]) : .null
        publish("audio_levels", ["index": .int(index), "port": port, "value": .double(value)])
    }

    /// A new host watches nothing yet.
    func forgetMeters() {
        audioMonitors = []
        audioLevels = [:]
        levelAnnounced = [:]
    }
}
