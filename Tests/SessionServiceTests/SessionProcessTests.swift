import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `marlise-session` as a real process: killed with SIGKILL between writes, restarted on
/// the same data folder, it has lost nothing it acknowledged.
@Suite(.serialized, .timeLimit(.minutes(2))) struct SessionProcessTests {
    struct Child {
        let process: TestProcess
        let rpc: String
    }

    /// Every bridge endpoint on a port where nothing listens; data and ports passed explicitly.
    static func environment(data: String, extra: [String: String] = [:]) throws -> [String: String] {
        [
            "SESSION_MANAGER_DATA_DIR": data, "MODHOST_BRIDGE_ENDPOINT": "tcp://127.0.0.1:\(try freePort())",
            "MODHOST_BRIDGE_HEALTH": "tcp://127.0.0.1:\(try freePort())",
            "MODHOST_BRIDGE_PUB": "tcp://127.0.0.1:\(try freePort())",
        ].merging(extra) { $1 }
    }

    static func start(
        data: String,
        rpc: String,
        extra: [String: String] = [:],
        name: String
    ) async throws -> TestProcess {
        try await TestProcess(
            product("marlise-session"),
            ["--rpc", rpc, "--pub", "tcp://127.0.0.1:*"],
            environment: try environment(data: data, extra: extra),
            log: FileManager.default.temporaryDirectory.appendingPathComponent("session-\(name)-\(getpid()).log")
        )
    }

    static func client(_ rpc: String) -> RPCClient {
        RPCClient(
            RPCClientConfiguration(
                endpoint: rpc,
                timeout: .seconds(3),
                retry: RetryPolicy(attempts: 20, delay: .milliseconds(100))
            )
        )
    }

    @Test func aClientRidesOutAKilledServiceAndItsReplacement() async throws {
        let data = SessionHarness.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let rpc = "tcp://127.0.0.1:\(try freePort())"
        let first = try await Self.start(data: data, rpc: rpc, name: "first")
        let client = Self.client(rpc)
        #expect(try await client.call("echo", params: ["up": true])["echo"] == ["up": true])
        try await first.stop(SIGKILL)

        // Asked while nothing listens: the call waits for the replacement instead of failing.
        let call = Task { try await client.call("echo", params: ["again": true]) }
        let second = try await Self.start(data: data, rpc: rpc, name: "second")
        #expect(try await call.value["echo"] == ["again": true])

        try await second.stop(SIGTERM)
        #expect(second.process.terminationReason == .exit)
        #expect(second.process.terminationStatus == 0)
        await client.shutdown()
    }

    @Test func autoCreateDefaultExistsBeforeTheFirstReply() async throws {
        let data = SessionHarness.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let rpc = "tcp://127.0.0.1:\(try freePort())"
        for round in 0..<2 {
            let child = try await Self.start(
                data: data,
                rpc: rpc,
                extra: ["SESSION_MANAGER_AUTO_CREATE_DEFAULT": "1"],
                name: "default-\(round)"
            )
            let client = Self.client(rpc)
            // The very first request already sees it, persisted.
            let list = try await client.call("get_pedalboard_list")
            #expect(list["pedalboards"]?.arrayValue?.map { $0["name"] } == ["Default"], "round \(round)")
            #expect(try await client.call("get_current_pedalboard")["pedalboard"]?["name"] == "Default")
            await client.shutdown()
            try await child.stop(SIGKILL)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(data)/pedalboards").count == 1)
    }

    @Test func withoutAutoCreateThereIsNoDefault() async throws {
        let data = SessionHarness.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let rpc = "tcp://127.0.0.1:\(try freePort())"
        let child = try await Self.start(
            data: data,
            rpc: rpc,
            extra: ["SESSION_MANAGER_AUTO_CREATE_DEFAULT": "0"],
            name: "nodefault"
        )
        let client = Self.client(rpc)
        #expect(try await client.call("get_pedalboard_list")["pedalboards"] == [])
        await client.shutdown()
        try await child.stop(SIGKILL)
    }

    /// Rounds of acknowledged writes, each ended by SIGKILL right after the last reply; every round
    /// checks that everything acknowledged before is still there.
    @Test func acknowledgedWritesSurviveKillNine() async throws {
        let data = SessionHarness.makeDataDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let rpc = "tcp://127.0.0.1:\(try freePort())"
        var acknowledged: [(id: String, name: String, snapshot: String)] = []
        for round in 0..<4 {
            let child = try await Self.start(data: data, rpc: rpc, name: "kill-\(round)")
            let client = Self.client(rpc)
            let list = try await client.call("get_pedalboard_list")
            let stored = Dictionary(
                uniqueKeysWithValues: (list["pedalboards"]?.arrayValue ?? []).compactMap { entry in
                    entry["id"]?.stringValue.map { ($0, entry) }
                }
            )
            #expect(list["problems"] == [], "round \(round): \(list.jsonText.prefix(300))")
            for board in acknowledged {
                #expect(stored[board.id]?["name"] == .string(board.name), "round \(round) lost \(board.name)")
                let info = try await client.call("get_pedalboard_info", params: ["id": .string(board.id)])
                #expect(
                    info["pedalboard"]?["snapshots"]?.arrayValue?.map { $0["name"] } == [.string(board.snapshot)],
                    "round \(round) lost the snapshot of \(board.name)"
                )
            }
            for round in 0..<round {
                #expect(
                    try await client.call("get_config", params: ["key": .string("round-\(round)")])["value"]
                        == .int(round)
                )
            }
            if let last = acknowledged.last {
                // The current pedalboard came back as it was left.
                #expect(try await client.call("get_current_pedalboard")["store_id"] == .string(last.id))
            }

            let name = "Round \(round)"
            let created = try await client.call("create_pedalboard", params: ["name": .string(name)])
            let id = try #require(created["pedalboard_id"]?.stringValue)
            #expect(
                try await client.call("save_snapshot_as", params: ["title": .string("Take \(round)")])["success"]
                    == true
            )
            #expect(
                try await client.call("set_config", params: ["key": .string("round-\(round)"), "value": .int(round)])[
                    "success"
                ] == true
            )
            acknowledged.append((id, name, "Take \(round)"))
            // Killed the instant the last reply arrives: what was acknowledged must already be on disk.
            try await child.stop(SIGKILL)
            await client.shutdown()
        }
    }
}
