import Foundation
import Testing

@testable import SessionService

/// The knob-turn lanes, the announcement throttle and the gate's two ways in, without I/O.
@Suite struct ParameterLanesTests {
    typealias Lanes = ParameterLanes<String>
    let gain = Lanes.Key(instanceID: "amp", symbol: "gain")
    let level = Lanes.Key(instanceID: "amp", symbol: "level")

    @Test func aFreeLaneIsTakenAndFreedWhenNothingWaits() {
        var lanes = Lanes()
        let first = lanes.claim(gain)
        let second = lanes.claim(gain)
        let other = lanes.claim(level)
        let nothing = lanes.release(gain)
        #expect(first && !second)
        #expect(other, "another parameter has a lane of its own")
        #expect(nothing == nil)
        #expect(lanes.busyCount == 1)
        let again = lanes.claim(gain)
        #expect(again)
    }

    @Test func onlyTheLatestWaitingChangeIsSentAndItAnswersTheOnesItReplaced() throws {
        var lanes = Lanes()
        let claimed = lanes.claim(gain)
        #expect(claimed)
        lanes.wait(gain, value: 0.2, caller: "b")
        lanes.wait(gain, value: 0.3, caller: "c")
        lanes.wait(gain, value: 0.4, caller: "d")
        let released = lanes.release(gain)
        let next = try #require(released)
        #expect(next.value == 0.4)
        #expect(next.caller == "d")
        #expect(next.superseded == ["b", "c"])
        // The lane stays taken for "d": a change arriving now waits behind it.
        let taken = !lanes.claim(gain)
        #expect(taken)
        lanes.wait(gain, value: 0.5, caller: "e")
        let releasedAgain = lanes.release(gain)
        let last = try #require(releasedAgain)
        #expect(last.value == 0.5 && last.superseded.isEmpty)
        let free = lanes.release(gain)
        #expect(free == nil)
        #expect(lanes.busyCount == 0)
    }

    @Test func announcementsAreTheFirstAtOnceThenTheLatestPerInterval() {
        var throttle = LatestPerInterval<String>(interval: .milliseconds(50))
        let start = ContinuousClock.now
        let decision1 = throttle.offer("gain", at: start)
        #expect(decision1 == .now)
        let decision2 = throttle.offer("gain", at: start + .milliseconds(10))
        #expect(decision2 == .holdUntil(start + .milliseconds(50)))
        let decision3 = throttle.offer("gain", at: start + .milliseconds(20))
        #expect(decision3 == .held)
        let decision4 = throttle.offer("level", at: start + .milliseconds(20))
        #expect(decision4 == .now, "each key has its own interval")
        throttle.flushed("gain", at: start + .milliseconds(50))
        let decision5 = throttle.offer("gain", at: start + .milliseconds(60))
        #expect(decision5 == .holdUntil(start + .milliseconds(100)))
        throttle.flushed("gain", at: start + .milliseconds(100))
        let decision6 = throttle.offer("gain", at: start + .milliseconds(200))
        #expect(decision6 == .now)
    }

    @Test func sharedHoldersEnterTogetherAndARigChangeWaitsForThemInOrder() async throws {
        let gate = SerialGate()
        await gate.enterShared()
        await gate.enterShared()
        #expect(!gate.tryEnter(), "a rig change waits while knob turns are inside")
        let order = OrderLog()
        let change = Task {
            await gate.enter()
            order.append("change")
            gate.leave()
        }
        // Wait until the rig change is queued; a knob turn arriving after it must queue behind it.
        try await waitUntil { gate.waiting == 1 }
        let lateTurn = Task {
            await gate.enterShared()
            order.append("late turn")
            gate.leaveShared()
        }
        try await waitUntil { gate.waiting == 2 }
        gate.leaveShared()
        #expect(order.entries.isEmpty)
        gate.leaveShared()
        await change.value
        await lateTurn.value
        #expect(order.entries == ["change", "late turn"])
        #expect(gate.tryEnter())
        gate.leave()
    }

    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            // A bounded poll: the gate has no hook for "someone queued", and needs none.
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

private final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ entry: String) { lock.withLock { list.append(entry) } }
    var entries: [String] { lock.withLock { list } }
}
