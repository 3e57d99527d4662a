import Foundation
import LV2
import Messaging
import SessionService
import Testing

/// The session serves while its catalogue is read: health at once, catalogue calls after the read.
@Suite(.timeLimit(.minutes(1))) struct CatalogueBuildTests {
    @Test func healthAnswersAndCatalogueCallsWaitDuringTheBuild() async throws {
        let release = DispatchSemaphore(value: 0)
        let data = SessionHarness.makeDataDirectory()
        let server = try await SessionServer.start(
            try SessionHarness.configuration(data: data),
            catalogueSource: {
                release.wait()
                return SessionHarness.catalogue
            },
            rpcEndpoint: "tcp://127.0.0.1:*",
            pubEndpoint: "tcp://127.0.0.1:*"
        )
        let health = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(10)))
        let catalogue = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(10)))

        // The build is held: health answers regardless, and so does `echo`, the supervisor's
        // liveness probe (held, it got a session killed in the middle of a long first scan).
        #expect(try await health.call("health_check")["success"] == true)
        let probe = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(2)))
        #expect(try await probe.call("echo", params: ["probe": 1])["echo"]?["probe"] == 1)
        await probe.shutdown()
        async let listed = catalogue.call("list_plugins")
        async let info = catalogue.call("get_plugin_info_by_uri", params: ["uri": .string(SessionHarness.amp)])
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await health.call("health_check")["success"] == true, "still answering during the build")
        release.signal()

        let list = try await listed
        #expect(list["count"] == .int(SessionHarness.catalogue.plugins.count), "the whole catalogue, not an empty one")
        #expect(try await info["plugin"]?["name"] == "Simple amplifier")

        await health.shutdown()
        await catalogue.shutdown()
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: data)
    }

    @Test func theFirstReadIsCachedUnderTheDataDirectoryAndRescanRewritesIt() async throws {
        let data = SessionHarness.makeDataDirectory()
        let cache = "\(data)/cache/plugin-catalogue.json"
        for round in 0..<2 {
            // No catalogue given: the session reads it itself (lilv, then its cache on the second start).
            let server = try await SessionServer.start(
                try SessionHarness.configuration(data: data),
                rpcEndpoint: "tcp://127.0.0.1:*",
                pubEndpoint: "tcp://127.0.0.1:*"
            )
            let client = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(30)))
            let list = try await client.call("list_plugins")
            #expect(list["count"] == .int(SessionHarness.catalogue.plugins.count), "start \(round)")
            #expect(FileManager.default.fileExists(atPath: cache), "start \(round)")
            if round == 1 {
                try FileManager.default.removeItem(atPath: cache)
                let rescanned = try await client.call("rescan_plugins")
                #expect(rescanned["count"] == .int(SessionHarness.catalogue.plugins.count))
                #expect(FileManager.default.fileExists(atPath: cache), "a rescan writes the cache again")
            }
            await client.shutdown()
            await server.shutdown()
        }
        try? FileManager.default.removeItem(atPath: data)
    }

    @Test func listEntriesCarryListFieldsAndNotDetails() async throws {
        let session = try await SessionHarness.start()
        let list = try #require(try await session.call("list_plugins")["plugins"]?.arrayValue)
        let available = try #require(try await session.call("get_available_plugins")["plugins"]?.objectValue)
        #expect(list.count == available.count)
        for entry in list + Array(available.values) {
            for field in [
                "uri", "name", "brand", "label", "category", "version", "minorVersion", "microVersion", "release",
                "builder", "stability",
            ] {
                #expect(entry[field] != nil, "a list entry has \(field)")
            }
            #expect(entry["ports"]?["audio"]?["input"]?.intValue != nil, "ports are counted")
            for field in ["port_list", "parameters", "control_outputs", "presets", "required_features", "bundles"] {
                #expect(entry[field] == nil, "a list entry has no \(field)")
            }
        }
        let amp = try #require(available[SessionHarness.amp])
        #expect(amp["ports"]?["audio"] == ["input": 1, "output": 1])
        #expect(amp["ports"]?["control"] == ["input": 1, "output": 0])
        await session.stop()
    }
}
