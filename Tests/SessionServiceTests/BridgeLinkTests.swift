import Testing

@testable import SessionService

/// When the session decides the bridge is there, and when the host must be given its pedalboard
/// back: the state machine driven directly.
@Suite struct BridgeLinkTests {
    @Test func theFirstAnswerWithAHostAsksForAResync() {
        var link = BridgeLink()
        #expect(link.state == .unknown)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: true) == .resync(reason: "bridge reachable"))
        #expect(link.state == .up)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: true) == .none)
    }

    @Test func aBridgeWithoutItsHostWaitsForTheHost() {
        var link = BridgeLink()
        #expect(link.probeAnswered(hostConnected: false, jackRunning: nil) == .none)
        #expect(link.probeAnswered(hostConnected: false, jackRunning: nil) == .none)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil) == .resync(reason: "host reconnected"))
        // The host drops and returns while the bridge stays up.
        #expect(link.probeAnswered(hostConnected: false, jackRunning: nil) == .none)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil) == .resync(reason: "host reconnected"))
    }

    @Test func aBridgeThatComesBackIsResynced() {
        var link = BridgeLink()
        _ = link.probeAnswered(hostConnected: true, jackRunning: nil)
        link.probeFailed()
        #expect(link.state == .down)
        #expect(link.hostConnected == nil)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil) == .resync(reason: "bridge reachable"))
        link.callFailed()
        #expect(link.callAnswered() == .resync(reason: "bridge answered"))
        #expect(link.callAnswered() == .none)
    }

    @Test func theHostReconnectedEventAlwaysResyncs() {
        var link = BridgeLink()
        _ = link.probeAnswered(hostConnected: true, jackRunning: nil)
        #expect(link.hostReconnected() == .resync(reason: "host reconnected"))
    }

    @Test func aBridgeThatDoesNotReportItsHostIsTakenAsServing() {
        var link = BridgeLink()
        #expect(link.probeAnswered(hostConnected: nil, jackRunning: nil) == .resync(reason: "bridge reachable"))
    }

    @Test func aBridgeOrHostReplacedBetweenProbesIsResynced() {
        var link = BridgeLink()
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil, identity: "a/0") != .none)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil, identity: "a/0") == .none)
        // The host restarted and the bridge reconnected before any probe saw it gone.
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil, identity: "a/1") != .none)
        // A new bridge process.
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil, identity: "b/0") != .none)
        #expect(link.probeAnswered(hostConnected: true, jackRunning: nil, identity: "b/0") == .none)
    }
}
