import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// Knob turns from many clients at once through the real path: 8 clients, each a blocking ZeroMQ
/// REQ socket on a thread of its own, turn a parameter each (8 swh amps) through the session, the
/// bridge and marlise-host on jackd (dummy driver). Nothing may be lost or reordered for one
/// parameter: every call succeeds, the host and the board end at each client's last value, and the
/// `parameter_changed` events of each parameter never go backwards. The limit allows for waiting
/// its turn at JACK behind the other suites that use it.
@Suite(.serialized, .timeLimit(.minutes(10))) struct ParameterOrderTests {
    static let clients = 8
    static let changesPerClient = 1_250

    /// The `index`th value a client sends: strictly increasing, each exact in a 32-bit float (the
    /// host keeps floats), all inside the amp's gain range (−70…70 dB).
    static func value(_ index: Int) -> Double { -70 + Double(index) * 0.0625 }

    @Test func tenThousandChangesFromEightClientsArriveWholeAndInOrder() async throws {
        try await AudioPathTests.withAudioPath { session, _, _ in try await turnKnobs(session) }
    }

    private func turnKnobs(_ session: SessionHarness) async throws {
        try await eventually(within: .seconds(20)) {
            let health = try await session.client.call("health_check")
            guard health["healthy"] == true else { throw TestFailure("not healthy: \(health.jsonText)") }
        }
        _ = try await session.call("create_pedalboard", ["name": "Many hands"])
        var instances: [String] = []
        for _ in 0..<Self.clients {
            let amp = try await session.call("add_plugin", ["uri": .string(SessionHarness.amp)])
            instances.append(try #require(amp["instance_id"]?.stringValue))
        }

        // Every event of the session, from before the first turn to a marker published after the
        // last reply: the session publishes each change before it answers the call.
        let subscriber = try await Subscriber.start(connectingTo: [session.server.events.endpoint])
        let publisher = session.server.events
        let collector = EventCollector()
        let subscribed = OneShot<Bool>()
        let drained = OneShot<Bool>()
        let collecting = Task {
            for await frames in subscriber.messages {
                subscribed.fulfil(true)
                guard let event = EventEnvelope(frames: frames) else { continue }
                if event.eventType == "parameter_order_done" { break }
                collector.take(event)
            }
            drained.fulfil(true)
        }
        let syncing = Task {
            for _ in 0..<500 where subscribed.current == nil {
                publisher.publish("sync", data: nil)
                try await Task.sleep(for: .milliseconds(20))
            }
            subscribed.fulfil(false)
        }
        #expect(try await subscribed.value, "the session's events never arrived")
        syncing.cancel()

        let clock = ContinuousClock()
        let started = clock.now
        let endpoint = session.server.rpc.endpoint
        let outcomes = try await withThrowingTaskGroup(of: ClientOutcome.self) { group in
            for (client, instance) in instances.enumerated() {
                group.addTask {
                    try await onThread(named: "knob \(client)") {
                        try Self.turn(instance, client: client, endpoint: endpoint)
                    }
                }
            }
            var outcomes: [ClientOutcome] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let elapsed = clock.now - started
        publisher.publish("parameter_order_done", data: nil)
        let timeout = Task {
            try await Task.sleep(for: .seconds(20))
            drained.fulfil(false)
        }
        #expect(try await drained.value, "the marker after the last reply never arrived among the events")
        timeout.cancel()
        collecting.cancel()
        await subscriber.shutdown()

        // Every call answered with success, in the order sent.
        #expect(outcomes.count == Self.clients)
        for outcome in outcomes {
            #expect(outcome.succeeded == Self.changesPerClient, "client \(outcome.client): \(outcome.failures)")
        }

        // Each parameter ends at its client's last value: in the host (asked through the bridge) and
        // on the board.
        let last = Self.value(Self.changesPerClient - 1)
        let board = try await session.call("get_current_pedalboard")["pedalboard"]
        for instance in instances {
            let read = try await session.call("get_parameter", ["instance_id": .string(instance), "port": "gain"])
            #expect(read["source"] == "host", "\(instance): \(read.jsonText)")
            #expect(read["current_value"]?.doubleValue == last, "\(instance) in the host: \(read.jsonText)")
            let plugin = board?["plugins"]?.arrayValue?.first { $0["instance_id"] == .string(instance) }
            #expect(plugin?["parameters"]?["gain"]?.doubleValue == last, "\(instance) on the board")
        }

        // The events of each parameter never go backwards.
        let events = collector.events
        var total = 0
        for instance in instances {
            let values = events[instance] ?? []
            total += values.count
            #expect(!values.isEmpty, "no parameter_changed for \(instance)")
            let backwards = zip(values, values.dropFirst()).first { $0.1 < $0.0 }
            #expect(backwards == nil, "\(instance): parameter_changed went backwards: \(String(describing: backwards))")
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            String(
                format: "parameter order: %d changes from %d clients in %.1f s (%.0f/s), %d parameter_changed events",
                Self.clients * Self.changesPerClient,
                Self.clients,
                seconds,
                Double(Self.clients * Self.changesPerClient) / seconds,
                total
            )
        )
    }

    struct ClientOutcome: Sendable {
        var client: Int
        var succeeded = 0
        var failures: [String] = []
    }

    /// One client: a blocking REQ socket sending `changesPerClient` increasing values of `instance`'s
    /// gain, each waiting for its reply (at most 10 s).
    static func turn(_ instance: String, client: Int, endpoint: String) throws -> ClientOutcome {
        let socket = try ZMQSocket(.req)
        defer { socket.close() }
        try socket.set(.receiveTimeout(.seconds(10)))
        try socket.connect(endpoint)
        var outcome = ClientOutcome(client: client)
        for index in 0..<changesPerClient {
            let id = "\(client)-\(index)"
            let request = RequestEnvelope(
                method: "set_parameter",
                params: ["instance_id": .string(instance), "parameter": "gain", "value": .double(value(index))],
                sourceService: "parameter-order",
                requestID: .string(id)
            )
            _ = try socket.send([request.encoded()])
            guard let frames = try socket.receive(), let frame = frames.last else {
                throw TestFailure("client \(client): no reply to change \(index) within 10 s")
            }
            let reply = try ReplyEnvelope.decode(frame)
            switch reply.outcome {
            case .success(let result) where reply.requestID == .string(id) && result["success"] == true:
                outcome.succeeded += 1
            default:
                if outcome.failures.count < 5 {
                    outcome.failures.append("change \(index): \(String(decoding: frame.prefix(300), as: UTF8.self))")
                }
            }
        }
        return outcome
    }

    /// The values of `parameter_changed` per instance, in the order they arrived.
    final class EventCollector: @unchecked Sendable {  // `values` is touched under `lock` only
        private let lock = NSLock()
        private var values: [String: [Double]] = [:]

        func take(_ event: EventEnvelope) {
            guard event.eventType == "parameter_changed", event.data["parameter"] == "gain",
                let instance = event.data["instance_id"]?.stringValue, let value = event.data["value"]?.doubleValue
            else { return }
            lock.lock()
            values[instance, default: []].append(value)
            lock.unlock()
        }

        var events: [String: [Double]] {
            lock.lock()
            defer { lock.unlock() }
            return values
        }
    }
}
