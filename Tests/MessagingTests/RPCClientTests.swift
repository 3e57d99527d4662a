import Foundation
import TestSupport
import Testing

@testable import Messaging

@Suite(.timeLimit(.minutes(1))) struct RPCClientTests {
    static func echoRouter(tag: String = "") -> RPCRouter {
        var router = RPCRouter()
        router.register("echo") { request in ["params": .object(request.params), "tag": .string(tag)] }
        router.register("hang") { _ in
            try await Task.sleep(for: .seconds(30))
            return nil
        }
        return router
    }

    static func client(_ endpoint: String, timeout: Duration, attempts: Int = 1, delay: Duration = .zero) -> RPCClient {
        RPCClient(
            RPCClientConfiguration(
                endpoint: endpoint,
                timeout: timeout,
                retry: RetryPolicy(attempts: attempts, delay: delay)
            )
        )
    }

    @Test func callReturnsTheResult() async throws {
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: Self.echoRouter()
        )
        let client = Self.client(server.endpoint, timeout: .seconds(5))
        let result = try await client.call("echo", params: ["x": [1, "two"]])
        #expect(result["params"] == ["x": [1, "two"]])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func envelopeErrorsAreThrownWithTheServersCode() async throws {
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: Self.echoRouter()
        )
        let client = Self.client(server.endpoint, timeout: .seconds(5))
        await #expect(throws: RPCError(.methodNotFound, "Method 'missing' not found")) {
            try await client.call("missing")
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aTimeoutNeverWedgesTheNextCall() async throws {
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: Self.echoRouter()
        )
        let client = Self.client(server.endpoint, timeout: .milliseconds(200))
        let error = await #expect(throws: RPCError.self) { try await client.call("hang") }
        #expect(error?.code == .timeout)
        // A plain REQ socket would now be stuck awaiting the lost reply; this one was replaced.
        for index in 0..<3 {
            let result = try await client.call("echo", params: ["i": .int(index)])
            #expect(result["params"] == ["i": .int(index)])
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func callsAreInFlightTogetherAndEachGetsItsOwnReply() async throws {
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        var router = Self.echoRouter()
        router.register("slow") { request in
            arrival.yield()
            // Held until the quick calls are answered: a client that sends one call at a time never
            // gets there, and its quick calls time out instead.
            var waiting = released.makeAsyncIterator()
            await waiting.next()
            return ["params": .object(request.params)]
        }
        let server = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: router)
        let client = Self.client(server.endpoint, timeout: .seconds(5))
        async let slow = client.call("slow", params: ["n": 0])
        var iterator = arrived.makeAsyncIterator()
        await iterator.next()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 1...20 {
                group.addTask {
                    let result = try await client.call("echo", params: ["n": .int(index)])
                    #expect(result["params"] == ["n": .int(index)])
                }
            }
            try await group.waitForAll()
        }
        release.yield()
        #expect(try await slow["params"] == ["n": 0])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aLateReplyToAGivenUpCallIsNeverTakenForAnother() async throws {
        var router = Self.echoRouter()
        router.register("late") { _ in
            try await Task.sleep(for: .milliseconds(400))
            return "late"
        }
        router.register("tick") { _ in "tick" }
        let server = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: router)
        let client = Self.client(server.endpoint, timeout: .milliseconds(200))
        // The socket keeps hearing replies (ticks) while `late` runs, so it is kept, and the late
        // reply arrives on it after its call timed out.
        let lateCall = Task { try await client.call("late") }
        for _ in 0..<6 {
            #expect(try await client.call("tick") == "tick")
            try await Task.sleep(for: .milliseconds(50))
        }
        let error = await #expect(throws: RPCError.self) { try await lateCall.value }
        #expect(error?.code == .timeout)
        try await Task.sleep(for: .milliseconds(300))
        for index in 0..<5 {
            #expect(try await client.call("echo", params: ["i": .int(index)])["params"] == ["i": .int(index)])
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aServerGoneMidCallIsRetriedUntilANewOneBindsTheEndpoint() async throws {
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        var first = Self.echoRouter(tag: "first")
        first.register("work") { _ in
            arrival.yield()
            try await Task.sleep(for: .seconds(30))
            return "never"
        }
        let dying = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: first)
        let endpoint = dying.endpoint
        let client = Self.client(endpoint, timeout: .milliseconds(300), attempts: 40, delay: .milliseconds(50))
        let call = Task { try await client.call("work") }

        for await _ in arrived { break }  // the request is being handled by the first server
        await dying.shutdown()  // it goes away without replying, as a killed process would

        var second = RPCRouter()
        second.register("work") { _ in "answered by the second server" }
        // libzmq closes a listener on its I/O thread shortly after the socket is closed.
        let replacement = try await eventually {
            try await RPCServer.start(RPCServerConfiguration(endpoint: endpoint), router: second)
        }
        #expect(try await call.value == "answered by the second server")
        await client.shutdown()
        await replacement.shutdown()
    }

    @Test func callsToNothingTimeOutAfterEveryAttempt() async throws {
        // A free port nobody listens on.
        let probe = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: RPCRouter()
        )
        let endpoint = probe.endpoint
        await probe.shutdown()
        let client = Self.client(endpoint, timeout: .milliseconds(100), attempts: 3, delay: .milliseconds(10))
        let error = await #expect(throws: RPCError.self) { try await client.call("echo") }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("3 attempts") == true)
        await client.shutdown()
    }

    @Test func shutdownFailsPendingCalls() async throws {
        let entered = OneShot<Void>()
        var router = Self.echoRouter()
        router.register("hang") { _ in
            entered.fulfil(())
            try await Task.sleep(for: .seconds(30))
            return nil
        }
        let server = try await RPCServer.start(RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"), router: router)
        let client = Self.client(server.endpoint, timeout: .seconds(20))
        let pending = Task { try await client.call("hang") }
        // Only once the server holds the hang call is the echo sent: it queues behind it (started
        // together, the echo could go first and be answered).
        try await entered.value
        let queued = Task { try await client.call("echo") }
        await client.shutdown()
        for task in [pending, queued] {
            let error = await #expect(throws: RPCError.self) { try await task.value }
            #expect(error?.code == .shutdown)
        }
        await server.shutdown()
    }

    /// A call posted in the same batch as the stop was once dropped, its caller suspended for ever
    /// (the test process hang). Every call must now end, answered or refused.
    @Test(.timeLimit(.minutes(1))) func everyCallRacingAShutdownEnds() async throws {
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: Self.echoRouter()
        )
        for _ in 0..<300 {
            let client = Self.client(server.endpoint, timeout: .seconds(20))
            let calls = (0..<3).map { _ in Task { try await client.call("echo") } }
            await client.shutdown()
            for call in calls {
                switch await call.result {
                case .success: break
                case .failure(let error): #expect((error as? RPCError)?.code == .shutdown)
                }
            }
        }
        await server.shutdown()
    }

    @Test func aCallAfterShutdownFailsAtOnce() async throws {
        let client = Self.client("tcp://127.0.0.1:1", timeout: .seconds(20))
        await client.shutdown()
        let error = await #expect(throws: RPCError.self) { try await client.call("echo") }
        #expect(error?.code == .shutdown)
    }

    @Test func aCancelledCallerIsReleasedAndTheClientGoesOn() async throws {
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: Self.echoRouter()
        )
        let client = Self.client(server.endpoint, timeout: .seconds(20))
        let pending = Task { try await client.call("hang") }
        pending.cancel()
        let error = await #expect(throws: RPCError.self) { try await pending.value }
        #expect(error?.code == .shutdown)
        #expect(try await client.call("echo", params: ["after": true])["params"] == ["after": true])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func unusableEndpointIsATransportError() async throws {
        let client = Self.client("nonsense://x", timeout: .seconds(1))
        let error = await #expect(throws: RPCError.self) { try await client.call("echo") }
        #expect(error?.code == .transportError)
        await client.shutdown()
    }
}

/// The Lazy Pirate decisions, with no sockets and no clock.
@Suite struct LazyPirateTests {
    @Test func sendsOnceThenDelivers() {
        var machine = LazyPirate(timeout: .seconds(1), policy: RetryPolicy(attempts: 3))
        #expect(machine.begin() == .send(waitFor: .seconds(1)))
        #expect(machine.replyReceived() == .deliver)
        #expect(machine.attempt == 1)
    }

    @Test func retriesAfterTheDelayThenFails() {
        var machine = LazyPirate(timeout: .seconds(1), policy: RetryPolicy(attempts: 2, delay: .milliseconds(250)))
        _ = machine.begin()
        #expect(machine.timedOut() == .pause(.milliseconds(250)))
        #expect(machine.retryDelayElapsed() == .send(waitFor: .seconds(1)))
        #expect(machine.attempt == 2)
        guard case .fail(let error) = machine.timedOut() else {
            Issue.record("expected failure after the last attempt")
            return
        }
        #expect(error.code == .timeout)
        #expect(error.message == "No reply within 1 s after 2 attempts")
    }

    @Test func theTimeoutIsSpelledForPeople() {
        var machine = LazyPirate(timeout: .nanoseconds(1_252_533_856), policy: RetryPolicy())
        _ = machine.begin()
        #expect(machine.timedOut() == .fail(RPCError(.timeout, "No reply within 1.25 s after 1 attempt")))
    }

    @Test func retriesAtOnceWithoutDelay() {
        var machine = LazyPirate(timeout: .seconds(1), policy: RetryPolicy(attempts: 2))
        _ = machine.begin()
        #expect(machine.timedOut() == .send(waitFor: .seconds(1)))
    }

    @Test func atLeastOneAttempt() {
        #expect(RetryPolicy(attempts: 0).attempts == 1)
    }
}
