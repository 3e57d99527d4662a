import Foundation
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
