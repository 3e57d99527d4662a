import Foundation
import Messaging
import TestSupport
import Testing

/// The stack under its default settings (probes, restart limits), as it boots on a box: one random
/// child killed every 2 s, and a bridge killed again and again. The supervisor never gives up,
/// nothing on the audio path is touched for a fault outside it, and every victim and the board
/// come back.
@Suite(.serialized, .jackAlone, .timeLimit(.minutes(15))) struct DefaultChaosTests {
    @Test func aRandomChildKilledEveryTwoSecondsAlwaysComesBack() async throws {
        let stack = try await Stack()
        let polling = stack.pollingClients(timeout: .milliseconds(250).scaled)
        let supervisorPID = stack.supervisor.pid
        var victims: [Duration] = []
        var boards: [Duration] = []
        var byService: [String: [Duration]] = [:]
        do {
            let rig = try await Rig.build(on: stack)
            try await rig.expectInHost(stack, within: .seconds(10), clients: polling)
            try await stack.untilHealthy(within: .seconds(10))
            var generator = SystemRandomNumberGenerator()
            let clock = ContinuousClock()
            let end = clock.now + .seconds(480)
            for round in 0..<(ChaosTests.rounds ?? 100) where clock.now < end {
                let before = try await stack.pids()
                let victim = ["jack", "host", "bridge", "session"].randomElement(using: &generator)!
                let pid = try #require(before[victim], "round \(round): no pid for \(victim)")
                let killed = clock.now
                kill(pid, SIGKILL)
                async let victimBack = stack.untilService(victim, replacing: pid, within: .seconds(30))
                async let boardBack: Void = rig.expectInHost(stack, within: .seconds(30), clients: polling)
                do {
                    try await victimBack
                    victims.append(clock.now - killed)
                    byService[victim, default: []].append(clock.now - killed)
                    try await boardBack
                    boards.append(clock.now - killed)
                } catch {
                    throw TestFailure("round \(round), SIGKILL \(victim): \(error)")
                }
                let after = try await stack.pids()
                #expect(stack.supervisor.process.isRunning && stack.supervisor.pid == supervisorPID)
                if victim != "jack" {
                    #expect(after["jack"] == before["jack"], "round \(round): JACK restarted for a \(victim) kill")
                }
                if victim == "bridge" || victim == "session" {
                    #expect(after["host"] == before["host"], "round \(round): the host restarted for a \(victim) kill")
                }
                try await Task.sleep(until: killed + .seconds(2))
            }
            print("default chaos: \(victims.count) rounds, victim healthy again \(summary(victims))")
            print("default chaos: board back in the host \(summary(boards))")
            for (service, times) in byService.sorted(by: { $0.key < $1.key }) {
                print("default chaos: \(service) (\(times.count)×) healthy again \(summary(times))")
            }
            #expect(victims.count >= min(ChaosTests.rounds ?? 100, 20))
            // What a stage needs: the victim back within a second, the board within a second and a half.
            #expect(percentile(victims, 0.99) <= .seconds(1).scaled, "victim healthy again \(summary(victims))")
            #expect(percentile(boards, 0.99) <= .milliseconds(1500).scaled, "board back \(summary(boards))")
        } catch {
            for service in ["supervisor", "bridge", "session"] {
                Issue.record("\(service): \(stack.log(service).suffix(2500))")
            }
            await polling.session.shutdown()
            await polling.bridge.shutdown()
            _ = try? await stack.stop()
            throw error
        }
        await polling.session.shutdown()
        await polling.bridge.shutdown()
        #expect(try await stack.stop() == 0)
    }

    @Test func aBridgeKilledTwentyTimesInARowNeverSilencesTheRoom() async throws {
        let stack = try await Stack()
        do {
            let before = try await stack.pids()
            var bridge = try #require(before["bridge"])
            for round in 0..<20 {
                kill(bridge, SIGKILL)
                // The next one is killed as soon as it runs: no healthy run in between.
                bridge = try await eventually(within: .seconds(30)) {
                    guard let now = try await stack.pids()["bridge"], now != bridge else {
                        throw TestFailure("round \(round): no new bridge yet")
                    }
                    return now
                }
            }
            kill(bridge, SIGKILL)
            let (_, degraded) = try await stack.health()
            #expect(stack.supervisor.process.isRunning, "the supervisor never gives up on the bridge")
            #expect(degraded["status"] == "degraded", "\(degraded.jsonText)")
            let after = try await stack.pids()
            #expect(after["jack"] == before["jack"], "JACK was never restarted")
            #expect(after["host"] == before["host"], "the host was never restarted")
            // Left alone, the bridge is back (after at most the capped delay) and so is the stack.
            try await stack.untilHealthy(within: .seconds(30))
            #expect(try await stack.pids()["jack"] == before["jack"])
            #expect(try await stack.pids()["host"] == before["host"])
        } catch {
            Issue.record("supervisor: \(stack.log("supervisor").suffix(3000))")
            _ = try? await stack.stop()
            throw error
        }
        #expect(try await stack.stop() == 0)
    }
}

/// The nearest-rank percentile: the smallest value at least `fraction` of them do not exceed.
func percentile(_ durations: [Duration], _ fraction: Double) -> Duration {
    let sorted = durations.sorted()
    guard !sorted.isEmpty else { return .zero }
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[max(0, min(sorted.count, rank) - 1)]
}

extension Stack {
    /// Every service's PID as `/health` reports it.
    func pids() async throws -> [String: Int32] {
        let (_, report) = try await health()
        var pids: [String: Int32] = [:]
        for entry in report["services"]?.arrayValue ?? [] {
            if let name = entry["name"]?.stringValue, let pid = entry["pid"]?.intValue { pids[name] = Int32(pid) }
        }
        return pids
    }

    /// Polls `/health` (half a millisecond a request) until `service` runs as a new process and is healthy.
    /// A poll, bounded by `deadline`: the stack is other processes, which announce nothing to this one.
    func untilService(_ service: String, replacing pid: Int32, within deadline: Duration) async throws {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while clock.now < end {
            let (_, report) = try await health()
            let entry = report["services"]?.arrayValue?.first { $0["name"] == .string(service) }
            if let now = entry?["pid"]?.intValue, Int32(now) != pid, entry?["state"] == "healthy" { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestFailure(
            "\(service) not healthy again within \(deadline.readable): \(try await health().1.jsonText.prefix(800))"
        )
    }
}
