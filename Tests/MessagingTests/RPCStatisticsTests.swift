import Foundation
import Messaging
import TestSupport
import Testing

/// The RPC server's counts: the buckets a duration lands in, the totals, the differences and
/// quantiles the operator's page derives, the JSON the session reports, and a real server counting
/// real calls.
@Suite(.timeLimit(.minutes(1))) struct RPCStatisticsTests {
    @Test func durationsLandInTheFirstBucketNotBelowThem() {
        #expect(RPCTotals.bounds.count + 1 == RPCTotals.bucketCount)
        #expect(RPCTotals.bucket(for: 0) == 0)
        #expect(RPCTotals.bucket(for: 0.000_05) == 0)
        #expect(RPCTotals.bucket(for: 0.000_1) == 0, "a bound is inclusive, as Prometheus's le")
        #expect(RPCTotals.bucket(for: 0.000_11) == 1)
        #expect(RPCTotals.bucket(for: 0.003) == 5)
        #expect(RPCTotals.bucket(for: 10) == 15)
        #expect(RPCTotals.bucket(for: 10.5) == 16)
        #expect(RPCTotals.bucket(for: 3600) == 16)
    }

    @Test func recordsCountRequestsErrorsAndTime() {
        let statistics = RPCStatistics()
        statistics.record(.microseconds(50), failed: false)
        statistics.record(.milliseconds(3), failed: true)
        statistics.record(.milliseconds(3), failed: false)
        statistics.record(.seconds(20), failed: true)
        let totals = statistics.snapshot
        #expect(totals.requests == 4)
        #expect(totals.errors == 2)
        #expect(abs(totals.durationSum - 20.00605) < 1e-9)
        #expect(totals.bucketCounts == [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(RPCTotals(json: totals.json) == totals)
        #expect(RPCTotals(json: ["requests": 1]) == nil)
        let other: JSONValue = ["requests": 1, "errors": 0, "duration_sum_s": 0, "le": [1, 2], "counts": [1, 0, 0]]
        #expect(RPCTotals(json: other) == nil, "other buckets than ours are not read as ours")
    }

    @Test func differencesAndQuantiles() {
        let statistics = RPCStatistics()
        for _ in 0..<10 { statistics.record(.microseconds(80), failed: false) }
        let earlier = statistics.snapshot
        // 90 requests between 1 and 2.5 ms, 10 between 50 and 100 ms.
        for _ in 0..<90 { statistics.record(.milliseconds(2), failed: false) }
        for _ in 0..<10 { statistics.record(.milliseconds(70), failed: true) }
        let delta = statistics.snapshot.since(earlier)
        #expect(delta.requests == 100)
        #expect(delta.errors == 10)
        #expect(delta.bucketCounts[0] == 0)
        let p50 = delta.quantile(0.5) ?? -1
        #expect((0.001...0.0025).contains(p50), "\(p50)")
        let p95 = delta.quantile(0.95) ?? -1
        #expect((0.05...0.1).contains(p95), "\(p95)")
        #expect(RPCTotals().quantile(0.5) == nil)
        // Counts that went down belong to a new process: taken whole.
        #expect(earlier.since(statistics.snapshot) == earlier)
        // Beyond every bound: the highest bound.
        let slow = RPCStatistics()
        slow.record(.seconds(30), failed: false)
        #expect(slow.snapshot.quantile(0.5) == 10)
    }

    @Test func aRealServerCountsEveryReplyAndRefusal() async throws {
        var configuration = RPCServerConfiguration(endpoint: "tcp://127.0.0.1:*")
        let statistics = RPCStatistics()
        configuration.statistics = statistics
        let server = try await RPCServer.start(configuration, router: RPCServerTests.router())
        #expect(server.statistics === statistics)
        let client = RPCClient(RPCClientConfiguration(endpoint: server.endpoint, timeout: .seconds(10)))
        for index in 0..<5 { _ = try await client.call("echo", params: ["n": .int(index)]) }
        await #expect(throws: RPCError.self) { try await client.call("fail") }
        await #expect(throws: RPCError.self) { try await client.call("no_such_method") }
        await client.shutdown()
        await server.shutdown()
        let totals = statistics.snapshot
        #expect(totals.requests == 7)
        #expect(totals.errors == 2, "a handler's error and a refused method")
        #expect(totals.bucketCounts.reduce(0, +) == 7)
        #expect(totals.durationSum > 0 && totals.durationSum < 10)
    }
}
