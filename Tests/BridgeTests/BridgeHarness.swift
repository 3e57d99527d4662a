import Bridge
import Foundation
import Locking
import Messaging
import TestSupport

/// mod-host's command behaviour as docs/protocols/mod-host.md records it, for the scripted peer: instances
/// 0…9999, `gain` as the only control symbol, mod-host's status codes and parser errors.
final class FakeModHostState: Sendable {
    private let instances = Locked<[Int: [String: Double]]>([:])

    /// Instances present from the start (a plugin loaded before the bridge came).
    init(preloaded: [Int] = []) {
        instances.withLock { for number in preloaded { $0[number] = ["gain": 0] } }
    }

    var numbers: [Int] { instances.withLock { $0.keys.sorted() } }

    func respond(_ command: String) -> String? {
        let words = command.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        func int(_ index: Int) -> Int? { index < words.count ? Int(words[index]) : nil }
        return instances.withLock { instances -> String? in
            switch (words[0], words.count) {
            case ("cpu_load", 1): return "resp 0 1.1418"
            case ("output_data_ready", 1): return "resp 0"
            case ("transport", 4): return "resp 0"
            case ("wait", _): return nil
            case ("add", 3):
                guard let number = int(2) else { return "resp -1" }
                let uri = words[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                guard uri.hasPrefix("http://plugin.org.uk/") || uri.hasPrefix("http://drobilla.net/") else {
                    return "resp -101"
                }
                guard (0...9999).contains(number) else { return "resp -1" }
                guard instances[number] == nil else { return "resp -2" }
                instances[number] = ["gain": 0]
                return "resp \(number)"
            case ("remove", 2):
                if let number = int(1) { instances[number] = nil }
                return "resp 0"
            case ("param_set", 4):
                guard let number = int(1), instances[number] != nil else { return "resp -3" }
                guard words[2] == "gain", let value = Double(words[3]) else { return "resp -103" }
                instances[number]?["gain"] = min(70, max(-70, value))
                return "resp 0"
            case ("param_get", 3):
                guard let number = int(1), let parameters = instances[number] else { return "resp -3" }
                guard let value = parameters[words[2]] else { return "resp -103" }
                return "resp 0 " + String(format: "%.4f", value)
            case ("preset_load", 3):
                return int(1).flatMap { instances[$0] } == nil ? "resp -3" : "resp 0"
            case ("bundle_add", 2), ("bundle_remove", 2): return "resp 0"
            case ("preset_save", 5...):  // a quoted label may hold spaces
                return int(1).flatMap { instances[$0] } == nil ? "resp -3" : "resp 0"
            case ("monitor_output", 3):
                return int(1).flatMap { instances[$0]?[words[2]] } == nil ? "resp 0" : "resp 1"
            case ("midi_learn", 5):
                return int(1).flatMap { instances[$0]?[words[2]] } == nil ? "resp 0" : "resp 1"
            case ("monitor", 4): return words[1] == "127.0.0.1" ? "resp 0" : "resp 1"
            case ("param_set", _), ("param_get", _), ("add", _), ("remove", _):
                return words.count < 3 ? "few arguments" : "many arguments"
            default: return "not found"
            }
        }
    }

    /// As a restarted mod-host: every instance gone.
    func forgetAll() { instances.withLock { $0.removeAll() } }
}

/// A bridge on wildcard endpoints against a scripted mod-host, with a REQ client and a subscriber.
final class BridgeHarness: Sendable {
    let state: FakeModHostState
    /// The scripted mod-host; nil when the harness runs against a real host.
    let peer: Locked<ScriptedModHost?>
    let bridge: Bridge
    let client: RawPeer
    let health: RawPeer
    let events: Subscriber
    private let received: EventLog
    private let collector: Task<Void, Never>

    init(
        state: FakeModHostState = FakeModHostState(),
        singleFrame: Bool = false,
        jackServer: String = "marlise-bridge-tests-none",
        hostPorts: (command: Int, feedback: Int)? = nil,
        staleProbe: Bool = false
    ) async throws {
        self.state = state
        var ports = hostPorts
        if ports == nil {
            let peer = try ScriptedModHost { state.respond($0) }
            self.peer = Locked(peer)
            ports = (peer.commandPort, peer.feedbackPort)
            // As a TCP readiness probe: a command connection opened and closed before the bridge
            // connects, which mod-host then pairs with the bridge's feedback connection.
            if staleProbe { try ScriptedModHost.connectAndClose(port: peer.commandPort) }
        } else {
            peer = Locked(nil)
        }
        var configuration = BridgeConfiguration()
        configuration.modHostHost = "127.0.0.1"
        configuration.modHostPort = ports?.command ?? 0
        configuration.modHostFeedbackPort = ports?.feedback ?? 0
        configuration.replyEndpoint = "tcp://127.0.0.1:*"
        configuration.publishEndpoint = "tcp://127.0.0.1:*"
        configuration.healthEndpoint = "tcp://127.0.0.1:*"
        configuration.commandTimeout = .seconds(2)
        configuration.reconnectCap = .milliseconds(100)
        configuration.singleFramePublish = singleFrame
        configuration.jackServer = jackServer
        bridge = try await Bridge.start(configuration)
        let endpoints = bridge.endpoints
        client = try RawPeer(.req, connectTo: endpoints.reply)
        health = try RawPeer(.req, connectTo: endpoints.health)
        let events = try await Subscriber.start(connectingTo: [endpoints.publish])
        self.events = events
        let log = EventLog()
        received = log
        collector = Task {
            for await frames in events.messages {
                log.withLock { $0.append(frames) }
                log.arrived.announce()
            }
        }
    }

    /// The scripted mod-host (harnesses made without `hostPorts` only).
    var scripted: ScriptedModHost {
        guard let peer = peer.withLock({ $0 }) else { preconditionFailure("this harness runs against a real host") }
        return peer
    }

    /// One request, one reply, as a REQ client of the C++ bridge would send it.
    func call(_ request: String) async throws -> JSONValue {
        try await client.send([Data(request.utf8)])
        return try JSONValue.parsed(try await client.receive()?.first)
    }

    func call(_ request: JSONValue) async throws -> JSONValue {
        try await call(request.jsonText)
    }

    func healthStatus() async throws -> JSONValue {
        try await health.send([Data(#"{"action":"health"}"#.utf8)])
        return try JSONValue.parsed(try await health.receive()?.first)
    }

    /// Waits until health reads `status`; once healthy against the scripted host, also until the
    /// subscriber is known to the bridge's PUB socket (``waitUntilSubscribed()``).
    func waitFor(status: String) async throws {
        try await eventually {
            let health = try await healthStatus()
            guard health["status"]?.stringValue == status else { throw TestFailure("health is \(health.jsonText)") }
        }
        if status == "healthy", peer.withLock({ $0 }) != nil { try await waitUntilSubscribed() }
    }

    /// A PUB socket drops what it publishes before a subscriber's subscription has reached it (ZeroMQ's
    /// "slow joiner"), and a bridge answers fast enough that an event right after start-up can be
    /// lost: until a probe's event arrives, feedback with a bpm of its own is pushed again every
    /// 100 ms. The probes' events are then taken out of the log.
    private func waitUntilSubscribed() async throws {
        func marker(_ attempt: Int) -> Data { Data("\(900 + attempt).25".utf8) }
        func isProbe(_ frames: [Data], upTo attempt: Int) -> Bool {
            (1...attempt).contains { probe in frames.contains { $0.range(of: marker(probe)) != nil } }
        }
        for attempt in 1...100 {
            scripted.pushFeedback(["transport 0 4.000000 \(900 + attempt).25", "data_finish"])
            let seen = await received.arrived.first(by: .now + .milliseconds(100)) {
                received.withLock { log in log.contains { isProbe($0, upTo: attempt) } ? true : nil }
            }
            guard seen != nil else { continue }
            // Every earlier probe's event came first, if at all (one connection, in order); a later
            // one's is waited for, so none arrives after the log is cleaned.
            _ = await received.arrived.first(by: .now + .seconds(2)) {
                received.withLock { log in
                    log.contains { $0.contains { $0.range(of: marker(attempt)) != nil } } ? true : nil
                }
            }
            received.withLock { log in log.removeAll { isProbe($0, upTo: attempt) } }
            return
        }
        throw TestFailure("the subscriber never received the bridge's events")
    }

    /// The first published event of `type` not yet returned.
    func nextEvent(_ type: String, within deadline: Duration = .seconds(10)) async throws -> [Data] {
        let found = await received.arrived.first(by: .now + deadline) {
            received.withLock { received -> [Data]? in
                guard let index = received.firstIndex(where: { $0.first == Data(type.utf8) }) else { return nil }
                return received.remove(at: index)
            }
        }
        guard let found else { throw TestFailure("no \(type) event") }
        return found
    }

    /// Every event received and not yet returned.
    var pendingEvents: [[Data]] { received.withLock { $0 } }

    /// What `look` finds in ``pendingEvents``, looking again as each event arrives; fails after
    /// `deadline`, saying what it waited for.
    func untilEvents<T>(
        _ what: String,
        within deadline: Duration = .seconds(10),
        _ look: ([[Data]]) -> T?
    ) async throws -> T {
        let found = await received.arrived.first(by: .now + deadline) { look(pendingEvents) }
        guard let found else {
            let types = pendingEvents.compactMap { $0.first.map { String(decoding: $0, as: UTF8.self) } }
            throw TestFailure("timed out waiting for \(what); events: \(types)")
        }
        return found
    }

    func stop() async {
        await client.close()
        await health.close()
        await events.shutdown()
        await collector.value
        await bridge.shutdown()
        peer.withLock { $0 }?.crash()
    }
}

/// Events a harness has received, shared with the task that collects them.
final class EventLog: Sendable {
    private let frames = Locked<[[Data]]>([])
    /// Announced after every event added.
    let arrived = ChangeSignal()

    func withLock<T: Sendable>(_ body: (inout [[Data]]) -> T) -> T { frames.withLock { body(&$0) } }
}
