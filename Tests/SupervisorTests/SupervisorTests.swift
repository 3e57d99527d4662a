import Foundation
import Health
import Jack
import Supervisor
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor over real child processes (`marlise-testchild`) and, for the audio case, real jackd.
@Suite(.serialized, .timeLimit(.minutes(10))) struct SupervisorTests {
    typealias Harness = SupervisorHarness

    @Test func startsInDependencyOrderUnderSlowReadiness() async throws {
        var slow = Harness.child("slow", ["--ready-after", "400"], readiness: .notify)
        slow.startTimeout = .seconds(5)
        var after = Harness.child("after", [])
        after.dependencies = ["slow"]
        let harness = try Harness([slow, after])
        defer { harness.removeLogs() }

        try await harness.until("slow spawned") { $0.services[0].pid != nil }
        // While slow is not ready, its dependent is not even spawned.
        let early = try #require(await harness.service("after"))
        #expect(early.pid == nil)
        #expect(early.state == .starting)
        let report = try await harness.until("both healthy") { $0.status == .healthy }
        #expect(report.services.map(\.name) == ["slow", "after"])
        let journal = harness.log("supervisor")
        let slowReady = try #require(journal.range(of: "slow: ready"))
        let afterStarted = try #require(journal.range(of: "after: started"))
        #expect(slowReady.lowerBound < afterStarted.lowerBound)
        #expect(await harness.stop() == .stopped)
    }

    @Test func aCrashRestartsTheServiceAndItsDependentsOnly() async throws {
        let root = Harness.child("root", [])
        var middle = Harness.child("middle", [])
        middle.dependencies = ["root"]
        var leaf = Harness.child("leaf", [])
        leaf.dependencies = ["middle"]
        let other = Harness.child("other", [])
        let harness = try Harness([root, middle, leaf, other])
        defer { harness.removeLogs() }
        let before = try await harness.until("all healthy") { $0.status == .healthy }
        let pids = Dictionary(uniqueKeysWithValues: before.services.map { ($0.name, $0.pid) })

        kill(try #require(pids["middle"] ?? nil), SIGKILL)
        let after = try await harness.until("middle back") { report in
            report.status == .healthy && report.services.first { $0.name == "middle" }?.restarts == 1
        }
        let now = Dictionary(uniqueKeysWithValues: after.services.map { ($0.name, $0) })
        #expect(now["middle"]?.pid != pids["middle"])
        #expect(now["middle"]?.lastExit?.signal == "SIGKILL")
        #expect(now["leaf"]?.pid != pids["leaf"], "a dependent goes down and comes back with what it depends on")
        #expect(now["leaf"]?.restarts == 0, "a dependent stopped on purpose did not fail")
        #expect(now["root"]?.pid == pids["root"], "what it depends on is untouched")
        #expect(now["other"]?.pid == pids["other"])
        #expect(await harness.stop() == .stopped)
    }

    @Test func aCrashLoopHitsTheIntensityLimitAndGivesUp() async throws {
        var looping = Harness.child("looping", ["--crash-after", "30"])
        looping.restart.maxRestarts = 3
        looping.restart.initialDelay = .milliseconds(10)
        let bystander = Harness.child("bystander", [])
        let harness = try Harness([bystander, looping])
        defer { harness.removeLogs() }
        let outcome = await harness.outcome
        guard case .gaveUp(let service, let reason) = outcome else {
            Issue.record("expected the supervisor to give up, got \(outcome)")
            return
        }
        #expect(service == "looping")
        #expect(reason.contains("died early 4 times"))
        let report = await harness.supervisor.health()
        #expect(report.services.first { $0.name == "looping" }?.state == .failed)
        #expect(report.services.first { $0.name == "bystander" }?.pid == nil, "the stack was stopped")
        #expect(harness.log("supervisor").contains("giving up"))
    }

    @Test func aCrashLoopOutsideTheAudioPathNeverStopsTheStack() async throws {
        var looping = Harness.child("looping", ["--crash-after", "30"])
        looping.restart.maxRestarts = 2
        looping.restart.initialDelay = .milliseconds(10)
        looping.restart.maxDelay = .milliseconds(100)
        looping.audioPath = false
        let bystander = Harness.child("bystander", [])
        let harness = try Harness([bystander, looping])
        defer { harness.removeLogs() }
        let failed = try await harness.until("looping failed") { $0.services[1].state == .failed }
        #expect(failed.status == .degraded, "the audio path plays on")
        #expect(failed.services[1].message?.contains("trying again every 100 ms") == true)
        let bystanderPID = try #require(failed.services[0].pid)
        // Tried again and again at the capped delay, the bystander untouched.
        let later = try await harness.until("looping tried again") {
            $0.services[1].restarts >= failed.services[1].restarts + 3
        }
        #expect(later.services[0].pid == bystanderPID)
        #expect(later.status == .degraded)
        #expect(await harness.stop() == .stopped)
    }

    @Test func aDeathAfterAHealthyRunIsRestartedAtOnceAndNeverCounted() async throws {
        var flaky = Harness.child("flaky", ["--crash-after", "400"])
        flaky.restart.startSeconds = .milliseconds(200)
        flaky.restart.maxRestarts = 1
        flaky.restart.initialDelay = .seconds(5)  // an early death would show as a long wait
        let harness = try Harness([flaky])
        defer { harness.removeLogs() }
        try await harness.until("four healthy runs ended") { $0.services[0].restarts >= 4 }
        let journal = harness.log("supervisor")
        #expect(journal.contains("after a healthy run; restarting at once"))
        #expect(!journal.contains("restarting in"))
        #expect(await harness.stop() == .stopped, "never gave up")
    }

    @Test func aHungChildIsFoundByItsProbeAndRestarted() async throws {
        let port = try freePort()
        var hanging = Harness.child(
            "hanging",
            ["--port", String(port), "--hang-after", "300"],
            readiness: .tcp(port: port)
        )
        hanging.liveness = .tcp(port: port)
        hanging.probe.interval = .milliseconds(100)
        hanging.probe.timeout = .milliseconds(200)
        hanging.probe.failureThreshold = 2
        let harness = try Harness([hanging])
        defer { harness.removeLogs() }
        let first = try await harness.until("ready") { $0.status == .healthy }
        // Counted from the healthy start (on a loaded machine a first start may already have failed).
        let restartsBefore = first.services[0].restarts
        let report = try await harness.until("restarted after hanging") {
            $0.services[0].restarts > restartsBefore
        }
        #expect(report.services[0].lastExit?.signal == "SIGKILL")
        #expect(report.services[0].pid != first.services[0].pid)
        #expect(harness.log("supervisor").contains("liveness probe failed"))
        _ = await harness.stop()
    }

    @Test func stopLeavesNoSurvivorAndKillsWhatIgnoresSIGTERM() async throws {
        let plain = Harness.child("plain", [])
        // Ready only once it ignores SIGTERM, so the stop cannot reach it before that.
        var stubborn = Harness.child("stubborn", ["--ignore-term", "--ready-after", "0"], readiness: .notify)
        stubborn.stopTimeout = .milliseconds(300)
        let harness = try Harness([plain, stubborn])
        defer { harness.removeLogs() }
        let report = try await harness.until("healthy") { $0.status == .healthy }
        let pids = report.services.compactMap(\.pid)
        #expect(pids.count == 2)
        #expect(await harness.stop() == .stopped)
        for pid in pids { #expect(processState(pid) == nil, "pid \(pid) survived (or is a zombie)") }
        let after = await harness.supervisor.health()
        #expect(after.services.allSatisfy { $0.state == .stopped })
        #expect(after.services.first { $0.name == "stubborn" }?.lastExit?.signal == "SIGKILL")
        #expect(after.services.first { $0.name == "plain" }?.lastExit?.signal == "SIGTERM")
        #expect(harness.log("supervisor").contains("stubborn: still running"))
    }

    @Test func aMissingProgramIsAbsentNotACrashLoop() async throws {
        let present = Harness.child("present", [])
        var missing = ServiceSpec(name: "missing", executable: "/nonexistent/program", readiness: .spawned)
        missing.required = false
        var needsMissing = Harness.child("needs-missing", [])
        needsMissing.dependencies = ["missing"]
        let harness = try Harness([present, missing, needsMissing])
        defer { harness.removeLogs() }
        let report = try await harness.until("settled") { report in
            report.services.allSatisfy { $0.state == .healthy || $0.state == .absent }
        }
        #expect(report.services.map(\.state) == [.healthy, .absent, .absent])
        #expect(report.services[2].message?.contains("missing") == true)
        #expect(await harness.stop() == .stopped)
    }

    @Test func aProgramThatSaysItIsUnavailableIsAbsentNotRestarted() async throws {
        let unavailable = Harness.child("unavailable", ["--crash-after", "0", "--exit-code", "69"], readiness: .notify)
        var dependent = Harness.child("dependent", [])
        dependent.dependencies = ["unavailable"]
        let harness = try Harness([unavailable, dependent])
        defer { harness.removeLogs() }
        let report = try await harness.until("settled") { report in report.services.allSatisfy { $0.state == .absent } }
        #expect(report.services[0].restarts == 0)
        #expect(report.services[0].message?.contains("unavailable") == true)
        #expect(await harness.stop() == .stopped)
    }

    @Test func childOutputLandsInItsLogWithStreamAndNewlines() async throws {
        let talker = Harness.child("talker", ["--echo", "hello from the child"])
        let harness = try Harness([talker])
        defer { harness.removeLogs() }
        try await harness.until("healthy") { $0.status == .healthy }
        try await eventually {
            if !harness.log("talker").contains("stdout hello from the child") { throw TestFailure("not yet") }
        }
        _ = await harness.stop()
    }

    @Test func childrenGetTheEnvironmentButNotSystemdsNotifySocket() async throws {
        let child = Harness.child(
            "envy",
            ["--print-env", "WATCHDOG_USEC", "--print-env", "MARLISE_TEST_VALUE", "--print-env", "JACK_DEFAULT_SERVER"]
        )
        let harness = try Harness(
            [child],
            environment: ["WATCHDOG_USEC": "5000000", "MARLISE_TEST_VALUE": "inherited"]
        )
        defer { harness.removeLogs() }
        try await harness.until("healthy") { $0.status == .healthy }
        try await eventually {
            let log = harness.log("envy")
            guard log.contains("env MARLISE_TEST_VALUE=inherited"), log.contains("env WATCHDOG_USEC=(unset)"),
                log.contains("env JACK_DEFAULT_SERVER=marlise")
            else { throw TestFailure("log so far: \(log) journal: \(harness.log("supervisor"))") }
        }
        _ = await harness.stop()
    }

    @Test func realJackOnTheDummyDriver() async throws {
        try await withJackAlone { try await superviseRealJack() }
    }

    private func superviseRealJack() async throws {
        let server = freeJackServerName()
        var jack = ServiceSpec(name: "jack", executable: "jackd", readiness: .jack(server: server))
        jack.arguments = ["--no-realtime", "-n", server, "-d", "dummy", "-r", "48000", "-p", "256"]
        jack.liveness = .jack(server: server)
        let harness = try Harness([jack]) { $0.jack.server = server }
        defer { harness.removeLogs() }
        let report = try await harness.until("jack healthy") { $0.status == .healthy }
        let pid = try #require(report.services[0].pid)
        #expect(await harness.stop() == .stopped)
        #expect(processState(pid) == nil)
        #expect(JackProbeIsDown(server))
    }
}

private func JackProbeIsDown(_ server: String) -> Bool {
    (try? JackProbe.check(server: server).get()) == nil
}
