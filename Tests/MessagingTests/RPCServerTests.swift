import Foundation
import Messaging
import TestSupport
import Testing

/// The server loop against what a careless or hostile client sends (spec §2.5: the reference
/// wedged on most of these; every one must get exactly one reply, and the next call must work).
@Suite(.timeLimit(.minutes(1))) struct RPCServerTests {
    static func router() -> RPCRouter {
        var router = RPCRouter()
        router.register("echo") { request in .object(request.params) }
        router.register("typed") { request in .int(try request.int("n") * 2) }
        router.register("fail") { _ in throw RPCError(.instanceNotFound, "No instance 'fx9'") }
        router.register("crash") { _ in throw CocoaError(.fileNoSuchFile) }
        return router
    }

    static func start(_ configure: (inout RPCServerConfiguration) -> Void = { _ in }) async throws -> RPCServer {
        var configuration = RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*")
        configure(&configuration)
        return try await RPCServer.start(configuration, router: router())
    }

    /// Sends `frames` from a REQ peer and returns the decoded reply.
    static func exchange(_ peer: RawPeer, _ frames: [Data]) async throws -> JSONValue {
        try await peer.send(frames)
        let reply = try await peer.receive()
        guard let reply, reply.count == 1 else {
            throw TestFailure("expected one reply frame, got \(String(describing: reply))")
        }
        return try JSONValue(parsing: reply[0])
    }

    static let garbage: [(frames: [Data], code: String, requestID: JSONValue)] = [
        ([Data([0xFF, 0xFE, 0x00])], "PARSE_ERROR", nil),
        ([Data(text: "not json")], "PARSE_ERROR", nil),
        ([Data()], "PARSE_ERROR", nil),
        ([Data(text: #"{"method":"echo""#)], "PARSE_ERROR", nil),
        ([Data(text: "[1,2]")], "INVALID_REQUEST", nil),
        ([Data(text: #""echo""#)], "INVALID_REQUEST", nil),
        ([Data(text: "null")], "INVALID_REQUEST", nil),
        ([Data(text: #"{"params":{},"request_id":"r0"}"#)], "INVALID_REQUEST", "r0"),
        ([Data(text: #"{"method":["x"],"request_id":1}"#)], "INVALID_REQUEST", 1),
        ([Data(text: #"{"method":"nope","request_id":"r1"}"#)], "METHOD_NOT_FOUND", "r1"),
        ([Data(text: #"{"method":"echo","params":[1],"request_id":"r2"}"#)], "INVALID_PARAMETERS", "r2"),
        ([Data(text: #"{"method":"echo","params":null}"#)], "INVALID_PARAMETERS", nil),
        ([Data(text: #"{"method":"echo","params":"x"}"#)], "INVALID_PARAMETERS", nil),
        ([Data(text: #"{"method":"typed","params":{"n":"two"},"request_id":"r3"}"#)], "INVALID_PARAMETERS", "r3"),
        ([Data(text: #"{"method":"typed","params":{}}"#)], "INVALID_PARAMETERS", nil),
        ([Data(text: #"{"method":"fail","request_id":"r4"}"#)], "INSTANCE_NOT_FOUND", "r4"),
        ([Data(text: #"{"method":"crash","request_id":"r5"}"#)], "INTERNAL_ERROR", "r5"),
        ([Data(text: #"{"method":"echo"}"#), Data(text: "{}")], "INVALID_REQUEST", nil),
        ([Data(repeating: 0x20, count: 5000)], "MESSAGE_TOO_LARGE", nil),
        ([Data(text: String(repeating: "[", count: 1000))], "PARSE_ERROR", nil),
    ]

    @Test func everyMalformedRequestGetsOneCodedReplyAndServingGoesOn() async throws {
        let server = try await Self.start { $0.maxRequestBytes = 4096 }
        let peer = try RawPeer(.req, connectTo: server.endpoint)
        for (index, item) in Self.garbage.enumerated() {
            let reply = try await Self.exchange(peer, item.frames)
            #expect(reply["code"] == .string(item.code), "case \(index): \(reply.jsonText)")
            #expect(reply["error"]?.stringValue?.isEmpty == false, "case \(index)")
            #expect(reply["request_id"] == item.requestID, "case \(index)")
            #expect(reply["result"] == nil, "case \(index)")
            let valid = try await Self.exchange(
                peer,
                [Data(text: #"{"method":"echo","params":{"i":\#(index)},"request_id":"ok"}"#)]
            )
            #expect(valid["result"] == ["i": .int(index)], "after case \(index)")
            #expect(valid["request_id"] == "ok")
        }
        await peer.close()
        await server.shutdown()
    }

    @Test func unknownMethodWordingMatchesTheReference() async throws {
        let server = try await Self.start()
        let peer = try RawPeer(.req, connectTo: server.endpoint)
        let reply = try await Self.exchange(peer, [Data(text: #"{"method":"nope"}"#)])
        #expect(reply["error"] == "Method 'nope' not found")
        await peer.close()
        await server.shutdown()
    }

    @Test func frameOverTheDisconnectLimitDropsThatPeerOnly() async throws {
        let server = try await Self.start {
            $0.maxRequestBytes = 1024
            $0.disconnectBytes = 4096
        }
        let hostile = try RawPeer(.req, connectTo: server.endpoint)
        try await hostile.send([Data(repeating: 0x7B, count: 100_000)])
        #expect(try await hostile.receive(timeout: .milliseconds(500)) == nil)
        let other = try RawPeer(.req, connectTo: server.endpoint)
        let reply = try await Self.exchange(other, [Data(text: #"{"method":"echo","params":{"x":1}}"#)])
        #expect(reply["result"] == ["x": 1])
        await hostile.close()
        await other.close()
        await server.shutdown()
    }

    @Test func aSlowHandlerNeverDelaysAnother() async throws {
        let (gate, open) = AsyncStream<Void>.makeStream()
        var router = Self.router()
        router.register("slow") { _ in
            for await _ in gate { break }
            return "slow done"
        }
        let server = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: router)
        let slowPeer = try RawPeer(.req, connectTo: server.endpoint)
        let fastPeer = try RawPeer(.req, connectTo: server.endpoint)
        try await slowPeer.send([Data(text: #"{"method":"slow"}"#)])
        // The fast call is answered while the slow one is still held at its gate.
        let fast = try await Self.exchange(fastPeer, [Data(text: #"{"method":"echo","params":{"fast":true}}"#)])
        #expect(fast["result"] == ["fast": true])
        open.yield()
        let slow = try JSONValue.parsed(try await slowPeer.receive()?.first)
        #expect(slow["result"] == "slow done")
        await slowPeer.close()
        await fastPeer.close()
        await server.shutdown()
    }

    @Test func dealerPeersWithoutDelimiterAreAnswered() async throws {
        let server = try await Self.start()
        let peer = try RawPeer(.dealer, connectTo: server.endpoint)
        try await peer.send([Data(text: #"{"method":"echo","params":{"d":1}}"#)])
        let reply = try await peer.receive()
        #expect(reply?.count == 1)
        #expect(try JSONValue.parsed(reply?.first)["result"] == ["d": 1])
        await peer.close()
        await server.shutdown()
    }

    @Test func bindingABusyEndpointFailsAtStart() async throws {
        let server = try await Self.start()
        await #expect(throws: ZMQError.self) {
            _ = try await RPCServer.start(RPCServerConfiguration(endpoint: server.endpoint), router: RPCRouter())
        }
        await server.shutdown()
    }
}
