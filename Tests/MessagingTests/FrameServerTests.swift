import Foundation
import Messaging
import TestSupport
import Testing

/// The raw-frame server: replies now or later, malformed and busy requests handed to the handler,
/// and the PUB socket its thread owns.
@Suite(.timeLimit(.minutes(1))) struct FrameServerTests {
    static func handler(_ request: FrameServer.Request) -> FrameServer.Reply {
        switch request {
        case .malformed(let why): return .now(Data("malformed: \(why)".utf8))
        case .busy: return .now(Data("busy".utf8))
        case .frame(let frame) where frame == Data("slow".utf8):
            return .later {
                try? await Task.sleep(for: .milliseconds(300))
                return Data("slow done".utf8)
            }
        case .frame(let frame): return .now(Data("echo ".utf8) + frame)
        }
    }

    @Test func aSlowRequestDoesNotDelayAQuickOne() async throws {
        let server = try await FrameServer.start(endpoint: "tcp://127.0.0.1:*", handler: Self.handler)
        let slow = try RawPeer(.req, connectTo: server.endpoint)
        let quick = try RawPeer(.req, connectTo: server.endpoint)
        try await slow.send([Data("slow".utf8)])
        let clock = ContinuousClock()
        let started = clock.now
        try await quick.send([Data("hi".utf8)])
        #expect(try await quick.receive()?.first == Data("echo hi".utf8))
        #expect(clock.now - started < .milliseconds(250), "answered while the slow one waits")
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
        let server = try await FrameServer.start(endpoint: "tcp://127.0.0.1:*", maxInFlight: 1, handler: Self.handler)
        let first = try RawPeer(.req, connectTo: server.endpoint)
        let second = try RawPeer(.req, connectTo: server.endpoint)
        try await first.send([Data("slow".utf8)])
        try await Task.sleep(for: .milliseconds(50))
        try await second.send([Data("slow".utf8)])
        #expect(try await second.receive()?.first == Data("busy".utf8))
        #expect(try await first.receive()?.first == Data("slow done".utf8))
        await first.close()
        await second.close()
        await server.shutdown()
    }

    @Test func theServersThreadPublishes() async throws {
        let server = try await FrameServer.start(
            endpoint: "tcp://127.0.0.1:*",
            publishEndpoint: "tcp://127.0.0.1:*",
            handler: Self.handler
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
