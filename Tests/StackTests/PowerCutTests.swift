import Foundation
import Messaging
import TestSupport
import Testing

/// The session service killed with SIGKILL at random instants while a client saves pedalboards and
/// snapshots: every acknowledged save survives, every file parses, and it starts without repair.
@Suite(.serialized, .timeLimit(.minutes(15))) struct PowerCutTests {
    /// 200 kills unless `MARLISE_POWERCUT_ROUNDS` says otherwise.
    static let rounds = ProcessInfo.processInfo.environment["MARLISE_POWERCUT_ROUNDS"].flatMap(Int.init) ?? 200

    @Test func acknowledgedSavesSurviveKillsAtRandomInstants() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-powercut-\(getpid())")
        defer { try? FileManager.default.removeItem(at: data) }
        let rpc = "tcp://127.0.0.1:\(try freePort())"
        let pub = "tcp://127.0.0.1:\(try freePort())"
        let acknowledged = Acknowledged()
        // Bounded in time as well as in count: the last round only checks.
        let deadline = ContinuousClock.now + .seconds(300)
        var kills = 0
        for round in 0...Self.rounds {
            let last = round == Self.rounds || ContinuousClock.now > deadline
            let session = try await startSession(data: data.path, rpc: rpc, pub: pub)
            let client = RPCClient(RPCClientConfiguration(endpoint: rpc, timeout: .seconds(5), retry: RetryPolicy()))
            // Everything acknowledged before the last kill is there, and nothing needs repair.
            let list = try await client.call("get_pedalboard_list")
            #expect(list["problems"] == [] || list["problems"] == nil, "round \(round): \(list.jsonText.prefix(300))")
            let stored = Set((list["pedalboards"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
            let missing = acknowledged.boards.filter { !stored.contains($0.id) }
            #expect(missing.isEmpty, "round \(round): lost \(missing.map(\.name))")
            try expectEveryFileParses(data.appendingPathComponent("pedalboards"), round: round)
            guard !last else {
                try await expectSnapshots(acknowledged, client: client)
                await client.shutdown()
                try await session.stop(SIGTERM)
                break
            }

            let writer = Task { await write(round: round, client: client, into: acknowledged) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...120)))
            try await session.stop(SIGKILL)
            kills += 1
            writer.cancel()
            await writer.value
            await client.shutdown()
        }
        #expect(acknowledged.boards.count > kills / 2, "only \(acknowledged.boards.count) saves acknowledged")
        print("power cut: \(kills) kills, \(acknowledged.boards.count) acknowledged pedalboards kept")
    }

    private func startSession(data: String, rpc: String, pub: String) async throws -> TestProcess {
        let unused = try freePort()
        let process = try await TestProcess(
            product("marlise-session"),
            ["--rpc", rpc, "--pub", pub],
            environment: [
                "SESSION_MANAGER_DATA_DIR": data, "MODHOST_BRIDGE_ENDPOINT": "tcp://127.0.0.1:\(unused)",
                "MODHOST_BRIDGE_HEALTH": "tcp://127.0.0.1:\(unused)", "BRIDGE_CONNECT_RETRIES": "0",
            ],
            log: URL(fileURLWithPath: data + ".log")
        )
        try await eventually(within: .seconds(20)) {
            let probe = RPCClient(
                RPCClientConfiguration(endpoint: rpc, timeout: .milliseconds(300), retry: RetryPolicy())
            )
            defer { Task { await probe.shutdown() } }
            _ = try await probe.call("echo")
        }
        return process
    }

    /// Saves until cancelled or cut off, recording each save whose reply arrived.
    private func write(round: Int, client: RPCClient, into acknowledged: Acknowledged) async {
        var index = 0
        while !Task.isCancelled {
            let name = "Cut \(round)-\(index)"
            guard let created = try? await client.call("create_pedalboard", params: ["name": .string(name)]),
                let id = created["pedalboard_id"]?.stringValue
            else { return }
            acknowledged.add(id: id, name: name)
            let snapshot = "Take \(round)-\(index)"
            guard let saved = try? await client.call("save_snapshot_as", params: ["title": .string(snapshot)]),
                saved["success"] == true
            else { return }
            acknowledged.addSnapshot(snapshot, to: id)
            index += 1
        }
    }

    private func expectEveryFileParses(_ folder: URL, round: Int) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasSuffix(".json") {
            let bytes = try Data(contentsOf: folder.appendingPathComponent(name))
            #expect((try? JSONValue(parsing: bytes)) != nil, "round \(round): \(name) does not parse")
        }
    }

    private func expectSnapshots(_ acknowledged: Acknowledged, client: RPCClient) async throws {
        for board in acknowledged.boards where !board.snapshots.isEmpty {
            let info = try await client.call("get_pedalboard_info", params: ["id": .string(board.id)])
            let names = Set(info["pedalboard"]?["snapshots"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
            #expect(board.snapshots.allSatisfy(names.contains), "\(board.name) lost a snapshot: has \(names)")
        }
    }
}

/// Saves the session acknowledged, in order.
final class Acknowledged: @unchecked Sendable {  // `lock` guards `entries`.
    struct Board {
        var id: String
        var name: String
        var snapshots: [String] = []
    }

    private let lock = NSLock()
    private var entries: [Board] = []

    var boards: [Board] { lock.withLock { entries } }

    func add(id: String, name: String) { lock.withLock { entries.append(Board(id: id, name: name)) } }

    func addSnapshot(_ name: String, to id: String) {
        lock.withLock {
            if let index = entries.lastIndex(where: { $0.id == id }) { entries[index].snapshots.append(name) }
        }
    }
}
