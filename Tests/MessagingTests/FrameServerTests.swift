import Foundation
import Locking
import Messaging
import TestSupport
import Testing

/// The raw-frame server: replies now or later, malformed and busy requests handed to the handler,
/// and the PUB socket its thread owns.
@Suite(.timeLimit(.minutes(1))) struct FrameServerTests {
    /// Echoes; `slow` is answered only once `release` is fulfilled.
    static func handler(release: OneShot<Void>) -> FrameServer.Handler {
        { request in
            switch request {
            case .malformed(let why): return .now(Data("malformed: \(why)".utf8))
            case .busy: return .now(Data("busy".utf8))
            case .frame(let frame) where frame == Data("slow".utf8):
                return .later {
                    try? await release.value
                    return Data("slow done".utf8)
                }
            case .frame(let frame): return .now(Data("echo ".utf8) + frame)
            }
        }
    }

    /// A deferred reply is answered from another thread, in any order, and what it asks to run after
    /// its send (an event) is not left waiting for the socket's next wake-up.
    @Test func deferredRepliesComeFromAnyThreadAndTheirEventsFollowAtOnce() async throws {
        let held = Locked<[FrameServer.Responder]>([])
        let box = Locked<FrameServer?>(nil)
        let server = try await FrameServer.start(endpoint: "tcp://127.0.0.1:*", publishEndpoint: "tcp://127.0.0.1:*") {
            request in
            guard case .frame(let frame) = request else { return .now(Data("malformed".utf8)) }
            return .deferred { respond in
                held.withLock { $0.append(respond) }
                if frame == Data("second".utf8) {
                    // Answer both, the second first, from a thread of its own.
                    let all = held.withLock { $0 }
                    Thread {
                        all[1](Data("second done".utf8), nil)
                        all[0](Data("first done".utf8)) { box.withLock { $0 }?.publish(frames: [Data("done".utf8)]) }
                    }.start()
                }
            }
        }
        box.withLock { $0 = server }
        let subscriber = try await Subscriber.start(
            connectingTo: [try #require(server.publishEndpoint)],
            topics: ["warm", "done"]
        )
        var messages = subscriber.messages.makeAsyncIterator()
        let warming = Task {
            while !Task.isCancelled {
                server.publish(frames: [Data("warm".utf8)])
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(await messages.next() == [Data("warm".utf8)])
        warming.cancel()
        await warming.value
        let first = try RawPeer(.req, connectTo: server.endpoint)
        let second = try RawPeer(.req, connectTo: server.endpoint)
        try await first.send([Data("first".utf8)])
        try await eventually { guard held.withLock({ $0.count }) == 1 else { throw TestFailure("not yet held") } }
        try await second.send([Data("second".utf8)])
        #expect(try await second.receive()?.first == Data("second done".utf8))
        #expect(try await first.receive()?.first == Data("first done".utf8))
        // Nothing else wakes the server now: the event must already be on its way.
        let ending = Task {
            try await Task.sleep(for: .seconds(5))
            await subscriber.shutdown()
        }
        var next = await messages.next()
        while next == [Data("warm".utf8)] { next = await messages.next() }
        #expect(next == [Data("done".utf8)])
        ending.cancel()
        await first.close()
        await second.close()
        await subscriber.shutdown()
        await server.shutdown()
    }

    @Test func aSlowRequestDoesNotDelayAQuickOne() async throws {
        let release = OneShot<Void>()
        let server = try await FrameServer.start(endpoint: "tcp://127.0.0.1:*", handler: Self.handler(release: release))
        let slow = try RawPeer(.req, connectTo: server.endpoint)
        let quick = try RawPeer(.req, connectTo: server.endpoint)
        try await slow.send([Data("slow".utf8)])
        try await quick.send([Data("hi".utf8)])
        // The slow one waits until the quick one is answered: a blocked socket thread would answer neither.
        #expect(try await quick.receive()?.first == Data("echo hi".utf8))
        release.fulfil(())
        #expect(try await slow.receive()?.first == Data("slow done".utf8))
        // An empty frame is still one frame; a DEALER's two frames are not a request.
        try await quick.send([Data()])
        #expect(try await quick.receive()?.first == Data("echo ".utf8))
        let dealer = try RawPeer(.dealer, connectTo: server.endpoint)
        try await dealer.send([Data(), Data("a".utf8), Data("b".utf8)])
        let refused = try await dealer.receive()
        #expect(refused?.last.map { String(decoding: $0, as: UTF8.self) } == "malformed: a request is one frame, not 2")
        await slow.close()
        await quick.close()
        await dealer.close()
        await server.shutdown()
    }

    @Test func requestsBeyondTheLimitAreBusy() async throws {
        let release = OneShot<Void>()
        let server = try await FrameServer.start(
            endpoint: "tcp://127.0.0.1:*",
            maxInFlight: 1,
            handler: Self.handler(release: release)
        )
        let first = try RawPeer(.req, connectTo: server.endpoint)
        let second = try RawPeer(.req, connectTo: server.endpoint)
        let third = try RawPeer(.req, connectTo: server.endpoint)
        try await first.send([Data("slow".utf8)])
        // Once the first is in flight, every request is refused as busy until it is answered.
        try await eventually {
            try await third.send([Data("hi".utf8)])
            let reply = try await third.receive()?.first
            guard reply == Data("busy".utf8) else { throw TestFailure("not busy yet") }
        }
        try await second.send([Data("slow".utf8)])
        #expect(try await second.receive()?.first == Data("busy".utf8))
        release.fulfil(())
        #expect(try await first.receive()?.first == Data("slow done".utf8))
        await third.close()
        await first.close()
        await second.close()
        await server.shutdown()
    }

    @Test func theServersThreadPublishes() async throws {
        let server = try await FrameServer.start(
            endpoint: "tcp://127.0.0.1:*",
            publishEndpoint: "tcp://127.0.0.1:*",
            handler: Self.handler(release: OneShot())
        )
        let endpoint = try #require(server.publishEndpoint)
        let subscriber = try await Subscriber.start(connectingTo: [endpoint], topics: ["news"])
        var messages = subscriber.messages.makeAsyncIterator()
        // A PUB drops what is published before the subscription lands: publish until one arrives.
        let publisher = Task {
            while !Task.isCancelled {
                server.publish(frames: [Data("news".utf8), Data("{}".utf8)])
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(await messages.next() == [Data("news".utf8), Data("{}".utf8)])
        publisher.cancel()
        await publisher.value
        await subscriber.shutdown()
        await server.shutdown()
    }
}
