import Foundation
import Messaging
import TestSupport
import Testing

/// The thin libzmq layer on real sockets over tcp://127.0.0.1, each test on wildcard ports.
@Suite(.timeLimit(.minutes(1))) struct SocketTests {
    @Test func requestReplyRoundTrip() async throws {
        let reply = try await onThread {
            let rep = try ZMQSocket(.rep)
            try rep.bind("tcp://127.0.0.1:*")
            let req = try ZMQSocket(.req)
            try req.connect(try rep.lastEndpoint())
            for socket in [rep, req] { try socket.set(.receiveTimeout(.seconds(5))) }
            try req.send([Data(text: "ping")])
            let request = try rep.receive()
            try rep.send([Data(text: "pong:") + (request?.first ?? Data())])
            return try req.receive()
        }
        #expect(reply == [Data(text: "pong:ping")])
    }

    @Test func routerDealerMultipart() async throws {
        let (atRouter, atDealer) = try await onThread {
            let router = try ZMQSocket(.router)
            try router.bind("tcp://127.0.0.1:*")
            let dealer = try ZMQSocket(.dealer)
            try dealer.connect(try router.lastEndpoint())
            for socket in [router, dealer] { try socket.set(.receiveTimeout(.seconds(5))) }
            try dealer.send([Data(text: "a"), Data(), Data(text: "c")])
            let received = try router.receive() ?? []
            // Route the reply back by the identity frame the ROUTER prepended.
            try router.send([received[0], Data(text: "x"), Data(text: "y")])
            return (received, try dealer.receive())
        }
        #expect(atRouter.count == 4)
        #expect(Array(atRouter.dropFirst()) == [Data(text: "a"), Data(), Data(text: "c")])
        #expect(atDealer == [Data(text: "x"), Data(text: "y")])
    }

    @Test func publishSubscribeFiltersByTopic() async throws {
        let received = try await onThread {
            let pub = try ZMQSocket(.pub)
            try pub.bind("tcp://127.0.0.1:*")
            let sub = try ZMQSocket(.sub)
            try sub.set(.subscribe(Data(text: "plugin_")))
            try sub.connect(try pub.lastEndpoint())
            // A subscription takes a moment to reach the publisher: publish a marker until one arrives.
            var poller = Poller()
            poller.add(sub)
            var synced = false
            for _ in 0..<250 where !synced {
                try pub.send([Data(text: "plugin_sync"), Data()])
                if try poller.wait(timeout: .milliseconds(20)) > 0 { synced = true }
            }
            guard synced else { throw TestFailure("subscription never reached the publisher") }
            try pub.send([Data(text: "pedalboard_saved"), Data(text: "{}")])
            try pub.send([Data(text: "plugin_loaded"), Data(text: #"{"instance_id":"fx1"}"#)])
            try sub.set(.receiveTimeout(.seconds(5)))
            // Markers still in flight come first; the filtered-out topic must never come at all.
            while let message = try sub.receive() {
                if message.first != Data(text: "plugin_sync") { return message }
            }
            throw TestFailure("nothing published arrived")
        }
        #expect(received == [Data(text: "plugin_loaded"), Data(text: #"{"instance_id":"fx1"}"#)])
    }

    @Test func pollerReportsWhichSocketIsReadable() async throws {
        let readable = try await onThread {
            let quiet = try ZMQSocket(.pair)
            try quiet.bind("tcp://127.0.0.1:*")
            let busy = try ZMQSocket(.pair)
            try busy.bind("tcp://127.0.0.1:*")
            let peer = try ZMQSocket(.pair)
            try peer.connect(try busy.lastEndpoint())
            try peer.send([Data(text: "hello")])
            var poller = Poller()
            let quietIndex = poller.add(quiet)
            let busyIndex = poller.add(busy)
            try poller.wait(timeout: .seconds(5))
            return (poller.isReadable(quietIndex), poller.isReadable(busyIndex), try busy.hasPendingInput())
        }
        #expect(readable == (false, true, true))
    }

    @Test func receiveTimeoutReturnsNil() async throws {
        let message = try await onThread {
            let socket = try ZMQSocket(.pair)
            try socket.bind("tcp://127.0.0.1:*")
            try socket.set(.receiveTimeout(.milliseconds(50)))
            return try socket.receive()
        }
        #expect(message == nil)
    }

    @Test func errorsCarryErrnoAndLibzmqText() throws {
        let socket = try ZMQSocket(.rep)
        let error = #expect(throws: ZMQError.self) { try socket.bind("nonsense://here") }
        #expect(error?.errno == EPROTONOSUPPORT)
        #expect(error?.message == "Protocol not supported")
        #expect(error?.operation == "zmq_bind(nonsense://here)")
    }

    @Test func bindingABusyPortFails() throws {
        let first = try ZMQSocket(.rep)
        try first.bind("tcp://127.0.0.1:*")
        let second = try ZMQSocket(.rep)
        let error = #expect(throws: ZMQError.self) { try second.bind(try first.lastEndpoint()) }
        #expect(error?.errno == EADDRINUSE)
    }
}
