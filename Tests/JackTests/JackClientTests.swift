import Foundation
import Jack
import Synchronization
import TestSupport
import Testing

/// The JACK client wrapper against a real jackd on the dummy driver.
@Suite(.timeLimit(.minutes(10))) struct JackClientTests {
    @Test func readsTheServersFormatAndSystemPorts() async throws {
        try await withJackServer(sampleRate: 44100, period: 128) { server in
            let client = try JackClient(name: "reader", server: server.name)
            #expect(client.sampleRate == 44100)
            #expect(client.bufferSize == 128)
            #expect(client.cpuLoad >= 0)
            let capture = client.ports(matching: "^system:capture_", type: .audio, direction: .output, physical: true)
            #expect(capture.count >= 1)
            #expect(client.ports(matching: "^system:playback_", direction: .input).count >= 1)
            #expect(client.transport.rolling == false)
        }
    }

    @Test func connectsAndDisconnectsPortsInEitherOrder() async throws {
        try await withJackServer { server in
            let client = try JackClient(name: "wiring", server: server.name)
            let input = try client.registerPort("in", type: .audio, direction: .input)
            #expect(input.name == "wiring:in")
            try client.activate()
            // Destination first: the client orders them.
            try client.connect("wiring:in", "system:capture_1")
            try client.connect("system:capture_1", "wiring:in")  // again: already connected is success
            // JACK applies graph changes at the next cycle.
            try await eventually {
                guard client.connections(of: "wiring:in") == ["system:capture_1"] else { throw TestFailure("not yet") }
            }
            try client.disconnect("system:capture_1", "wiring:in")
            try await eventually {
                guard client.connections(of: "wiring:in").isEmpty else { throw TestFailure("still connected") }
            }
            #expect(throws: JackError.self) { try client.disconnect("system:capture_1", "wiring:in") }
            #expect(throws: JackError.self) { try client.connect("system:capture_1", "wiring:nosuch") }
            #expect(throws: JackError.self) { try client.connect("system:capture_1", "system:capture_2") }
            try client.setAlias("guitar", of: "wiring:in")
            #expect(client.aliases(of: "wiring:in") == ["guitar"])
            try client.connect("wiring:in", "system:capture_2")
            try client.disconnectAll("wiring:in")
            try await eventually {
                guard client.connections(of: "wiring:in").isEmpty else { throw TestFailure("still connected") }
            }
        }
    }

    @Test func refusesATakenNameAndAnAbsentServer() async throws {
        try await withJackServer { server in
            let first = try JackClient(name: "twin", server: server.name)
            #expect(first.name == "twin")
            #expect(throws: JackError.self) { try JackClient(name: "twin", server: server.name) }
            #expect(throws: JackError.self) { try JackClient(name: "lonely", server: "marlise-absent-\(getpid())") }
        }
    }

    @Test func reportsTheServersDeath() async throws {
        try await withJackServer { server in
            let client = try JackClient(name: "orphan", server: server.name)
            try client.activate()
            let (reasons, continuation) = AsyncStream<String>.makeStream()
            client.onShutdown { reason in continuation.yield(reason) }
            try await server.kill()
            var iterator = reasons.makeAsyncIterator()
            let reason = await iterator.next()
            #expect(reason != nil)
            #expect(client.isShutDown)
            client.close()  // after the server died: must neither hang nor crash
        }
    }
}
