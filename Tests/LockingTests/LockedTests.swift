import Dispatch
import Locking
import Testing

@Suite(.timeLimit(.minutes(1))) struct LockedTests {
    /// Threads that contend for the lock all the time: a plain `Mutex` hands it over through a futex
    /// ThreadSanitizer cannot see, and `swift test --sanitize=thread` reported these very accesses.
    @Test func contendedUpdatesAreOrdered() {
        let counter = Locked((count: 0, log: [Int]()))
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for step in 0..<2000 {
                counter.withLock { state in
                    state.count += 1
                    if step % 100 == 0 { state.log.append(thread) }
                }
            }
        }
        #expect(counter.withLock { $0.count } == 8000)
        #expect(counter.withLock { $0.log.count } == 80)
    }

    @Test func throwsWhatTheBodyThrows() {
        struct Refused: Error {}
        let value = Locked(1)
        #expect(throws: Refused.self) { try value.withLock { _ throws(Refused) in throw Refused() } }
        #expect(value.withLock { $0 } == 1)
    }
}
