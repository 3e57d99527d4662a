import Foundation
import Messaging
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct PublisherTests {
    @Test func subscriberReceivesOnlyItsTopicsAsEventEnvelopes() async throws {
        let publisher = try await Publisher.start(endpoint: "tcp://127.0.0.1:*", sourceService: "session_manager")
        let subscriber = try await Subscriber.start(connectingTo: [publisher.endpoint], topics: ["plugin_"])
        var messages = subscriber.messages.makeAsyncIterator()

        // Subscriptions reach a publisher asynchronously: publish a marker until one comes through.
        let syncing = Task {
            while !Task.isCancelled {
                publisher.publish("plugin_sync", data: nil)
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        var first = await messages.next()
        syncing.cancel()
        while let frames = first, EventEnvelope(frames: frames)?.eventType == "plugin_sync" {
            // Drain markers still in flight; the next real event follows them.
            publisher.publish("pedalboard_saved", data: ["id": "p1"])
            publisher.publish("plugin_loaded", data: ["instance_id": "fx1", "uri": "urn:x", "name": "X"])
            first = await messages.next()
        }
        let event = try #require(first.flatMap(EventEnvelope.init(frames:)))
        #expect(event.eventType == "plugin_loaded")
        #expect(event.sourceService == "session_manager")
        #expect(event.data["instance_id"] == "fx1")
        await subscriber.shutdown()
        await publisher.shutdown()
    }
}
