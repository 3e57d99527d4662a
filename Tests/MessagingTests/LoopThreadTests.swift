import Foundation
import Locking
import Synchronization
import TestSupport
import Testing

@testable import Messaging

/// One thread serving sockets and an actor: work passes between them without changing threads,
/// and nothing posted from other threads is ever left waiting.
@Suite(.timeLimit(.minutes(1))) struct LoopThreadTests {
    /// An actor whose executor is a ``LoopThread``, recording the threads it ran on.
    actor Counter {
        let loop: LoopThread
        nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
        private(set) var count = 0
        private(set) var threads: Set<UInt> = []

        init(loop: LoopThread) { self.loop = loop }

        func increment() -> Int {
            count += 1
            threads.insert(UInt(pthread_self()))
            return count
        }

        func assertIsolatedHere() {
            // Asks the executor itself (`checkIsolated`): it must recognise its own thread.
            loop.preconditionIsolated()
        }
    }

    @Test func anActorOnTheThreadServesEveryCallerFromOneThread() async throws {
        let counter = Counter(loop: LoopThread(name: "test loop"))
        // 8 tasks on the pool call at once: every call is a post from another thread.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<500 { _ = await counter.increment() } }
            }
            try await group.waitForAll()
        }
        #expect(await counter.count == 4_000)
        #expect(await counter.threads.count == 1, "an actor on a LoopThread runs on that thread alone")
        await counter.assertIsolatedHere()
    }

    /// A handler on a shared thread calls a second server through a client on the same thread: the
    /// handler's code after each await, the actor and the client's socket all run on that one thread.
    @Test func aHandlerThatCallsOnwardNeverLeavesTheThread() async throws {
        let backend = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: RPCClientTests.echoRouter(tag: "backend")
        )
        let loop = LoopThread(name: "test front")
        let onward = RPCClient(RPCClientConfiguration(endpoint: backend.endpoint, timeout: .seconds(5)), on: loop)
        let counter = Counter(loop: loop)
        let threads = Locked<Set<UInt>>([])
        @Sendable func note() { threads.withLock { _ = $0.insert(UInt(pthread_self())) } }
        var router = RPCRouter()
        router.register("forward") { request in
            note()
            let reply = try await onward.call("echo", params: request.params)
            note()
            let count = await counter.increment()
            note()
            return ["tag": reply["tag"] ?? .null, "count": .int(count)]
        }
        let front = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: router,
            on: loop
        )
        let client = RPCClient(RPCClientConfiguration(endpoint: front.endpoint, timeout: .seconds(5)))
        // Calls in flight together, from tasks on the pool.
        let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for index in 0..<50 { group.addTask { try await client.call("forward", params: ["i": .int(index)]) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 50)
        #expect(results.allSatisfy { $0["tag"] == "backend" })
        #expect(Set(results.compactMap { $0["count"]?.intValue }) == Set(1...50), "each call counted once")
        #expect(threads.withLock { $0.count } == 1, "every part of every handler ran on the front's thread")
        await client.shutdown()
        await front.shutdown()
        await onward.shutdown()
        await backend.shutdown()
    }

    /// Posts from many threads at once, to a loop and to jobs on the same thread, are all handled:
    /// none waits for a wake-up that never comes.
    @Test func postsFromManyThreadsAreNeverLeftWaiting() async throws {
        let loop = LoopThread(name: "test posts")
        let counter = Counter(loop: loop)
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: {
                var router = RPCRouter()
                router.register("count") { _ in .int(await counter.increment()) }
                return router
            }(),
            on: loop
        )
        // 8 clients each on a thread of its own (their own LoopThreads), 200 sequential calls each,
        // with jobs for the actor posted from the pool between them.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let client = RPCClient(RPCClientConfiguration(endpoint: server.endpoint, timeout: .seconds(5)))
                    for _ in 0..<200 { _ = try await client.call("count") }
                    await client.shutdown()
                }
                group.addTask { for _ in 0..<200 { _ = await counter.increment() } }
            }
            try await group.waitForAll()
        }
        #expect(await counter.count == 3_200)
        await server.shutdown()
    }

    /// A task on the thread that never stops making work (it yields in a loop) does not keep the
    /// thread's sockets from being read.
    @Test func workThatKeepsMakingWorkDoesNotStarveTheSockets() async throws {
        let loop = LoopThread(name: "test busy")
        let server = try await RPCServer.start(
            RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*"),
            router: RPCClientTests.echoRouter(),
            on: loop
        )
        let spinning = Atomic<Bool>(true)
        let spinner = Task(executorPreference: loop) {
            while spinning.load(ordering: .relaxed) { await Task.yield() }
        }
        let client = RPCClient(RPCClientConfiguration(endpoint: server.endpoint, timeout: .seconds(5)))
        let result: Result<JSONValue, RPCError>
        do throws(RPCError) {
            result = .success(try await client.call("echo", params: ["x": 1]))
        } catch {
            result = .failure(error)
        }
        spinning.store(false, ordering: .relaxed)
        await spinner.value
        #expect(try result.get()["params"] == ["x": 1])
        await client.shutdown()
        await server.shutdown()
    }
}
