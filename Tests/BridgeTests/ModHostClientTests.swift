import Bridge
import Foundation
import ModHostWire
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The bridge's connection to mod-host, against a peer scripted from docs/protocols/mod-host.md.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ModHostClientTests {
    static func host() throws -> ScriptedModHost {
        try ScriptedModHost { command in
            switch command {
            case "param_set 0 gain 6.5", "output_data_ready": "resp 0"
            case "param_get 0 gain": "resp 0 6.5000"
            case "param_get 77 gain": "resp -3"
            case "wait": nil
            case "param_get 99 gain":
                // Slow on purpose: while the host is busy, the client writes what comes next.
                {
                    Thread.sleep(forTimeInterval: 0.2)
                    return "resp 0 99.0"
                }()
            case let other where other.hasPrefix("param_get ") && other.hasSuffix(" level"):
                "resp 0 " + other.split(separator: " ")[1]
            default: "not found"
            }
        }
    }

    @Test func commandsAndRepliesOverOnePersistentPair() async throws {
        let peer = try Self.host()
        defer { peer.stop() }
        let client = ModHostClient(commandPort: peer.commandPort, feedbackPort: peer.feedbackPort, timeout: .seconds(5))
        defer { client.close() }
        #expect(
            try await client.send(ModHostCommand("param_set", [.int(0), .word("gain"), .number(6.5)])) == .status(0)
        )
        #expect(try await client.send(ModHostCommand("param_get", [.int(0), .word("gain")])) == .value(6.5))
        let missing = try await client.send(ModHostCommand("param_get", [.int(77), .word("gain")]))
        #expect(missing.failure?.name == "ERR_INSTANCE_NON_EXISTS")
        #expect(try await client.send(ModHostCommand(raw: "bogus")) == .parserError(.notFound))
        #expect(peer.connections == 1, "one connection pair for every command")
    }

    @Test func concurrentCommandsAreSerialised() async throws {
        let peer = try Self.host()
        defer { peer.stop() }
        let client = ModHostClient(commandPort: peer.commandPort, feedbackPort: peer.feedbackPort)
        defer { client.close() }
        let replies: [ModHostReply]
        do {
            replies = try await withThrowingTaskGroup(of: ModHostReply.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await client.send(ModHostCommand("param_get", [.int(0), .word("gain")])) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        } catch {
            throw TestFailure("\(error); peer saw \(peer.received.count) commands on \(peer.connections) connections")
        }
        #expect(replies == Array(repeating: .value(6.5), count: 20))
    }

    /// Commands are written without waiting for the replies before them, and each caller still gets
    /// its own reply: the host answers in order, and the order is the one they were written in.
    @Test func commandsArePipelinedAndEachReplyFindsItsCaller() async throws {
        let peer = try Self.host()
        defer { peer.stop() }
        let client = ModHostClient(commandPort: peer.commandPort, feedbackPort: peer.feedbackPort)
        defer { client.close() }
        try await client.connect()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let slow = try await client.send(ModHostCommand(raw: "param_get 99 gain"))
                #expect(slow == .value(99))
            }
            try await Task.sleep(for: .milliseconds(50))
            for number in 0..<30 {
                group.addTask {
                    let reply = try await client.send(ModHostCommand("param_get", [.int(number), .word("level")]))
                    #expect(reply == .value(Double(number)))
                }
            }
            try await group.waitForAll()
        }
        #expect(peer.largestBatch > 1, "every command waited for the reply before it")
        #expect(peer.connections == 1)
    }

    @Test func feedbackIsDeliveredAndEveryBatchAcknowledged() async throws {
        let peer = try Self.host()
        defer { peer.stop() }
        let client = ModHostClient(commandPort: peer.commandPort, feedbackPort: peer.feedbackPort)
        defer { client.close() }
        do {
            _ = try await client.send(ModHostCommand(raw: "param_get 0 gain"))
        } catch {
            throw TestFailure("\(error); peer saw \(peer.received) on \(peer.connections) connections")
        }
        var feedback = client.feedback.makeAsyncIterator()
        peer.pushFeedback(["output_set 3 attenuation 21.940388", "transport 1 4.000000 120.000000", "data_finish"])
        #expect(await feedback.next() == "output_set 3 attenuation 21.940388")
        #expect(await feedback.next() == "transport 1 4.000000 120.000000")
        try await eventually {
            guard peer.received.contains("output_data_ready") else { throw TestFailure("no output_data_ready yet") }
        }
    }

    @Test func aLostReplyTimesOutAndTheNextCommandReconnects() async throws {
        let peer = try Self.host()
        defer { peer.stop() }
        let client = ModHostClient(
            commandPort: peer.commandPort,
            feedbackPort: peer.feedbackPort,
            timeout: .milliseconds(200)
        )
        defer { client.close() }
        let error = await #expect(throws: ModHostError.self) { try await client.send(ModHostCommand(raw: "wait")) }
        #expect(error?.message == "no reply to 'wait' within 200 ms")
        #expect(!client.isConnected)
        #expect(try await client.send(ModHostCommand(raw: "param_get 0 gain")) == .value(6.5))
        #expect(peer.connections == 2)
    }

    @Test func aHostThatIsDownFailsFast() async throws {
        // Ports bound but not listening: connections are refused, and no other test can take them
        // meanwhile (a freed port could be reused by a concurrent test's peer and pair wrongly).
        let command = try ScriptedModHost.reservePort()
        let feedback = try ScriptedModHost.reservePort()
        defer {
            close(command.fd)
            close(feedback.fd)
        }
        let client = ModHostClient(commandPort: command.port, feedbackPort: feedback.port)
        let error = await #expect(throws: ModHostError.self) { try await client.send(ModHostCommand(raw: "cpu_load")) }
        #expect(error?.kind == .unavailable)
    }
}
