import Foundation
import LV2
import Messaging
import Testing

@testable import Bridge

/// The bridge's catalogue: read when first needed, not at start, and let go when idle.
@Suite(.serialized, .timeLimit(.minutes(2))) struct CatalogueStoreTests {
    @Test func readOnFirstNeedLetGoWhenIdleAndReadAgainFromTheCache() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalogue-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cache = CatalogueCache(file: folder + "/catalogue.json")
        let store = CatalogueStore(cache: cache, idleRelease: .milliseconds(500))

        // What the bridge does at start: nothing is read until a request needs the catalogue.
        store.rescan(rescanning: false)
        try await Task.sleep(for: .seconds(1.5))
        #expect(!store.isHeld)
        #expect(!FileManager.default.fileExists(atPath: cache.file), "read at start, not on first need")

        let first = await store.catalogue()
        #expect(first.plugin(uri: BridgeRequestTests.amp)?.name == "Simple amplifier")
        #expect(FileManager.default.fileExists(atPath: cache.file))

        // Idle: let go (the cache holds it)…
        let deadline = ContinuousClock.now + .seconds(20)
        while store.isHeld, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!store.isHeld, "still held after being idle")

        // …and read again, whole, when needed.
        let again = await store.catalogue()
        #expect(again.plugins.count == first.plugins.count)
        #expect(again.plugin(uri: BridgeRequestTests.amp)?.name == "Simple amplifier")
        #expect(store.isHeld)

        // A rescan is never deferred.
        let rescanned = await store.rescan().value
        #expect(rescanned.plugins.count == first.plugins.count)
    }

    @Test func theListAnswerIsBuiltOncePerReadAndLetGoWithIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalogue-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = CatalogueStore(cache: CatalogueCache(file: folder + "/catalogue.json"), idleRelease: .seconds(1))
        var builds = 0
        func answer() async -> JSONValue {
            await store.listAnswer { catalogue in
                builds += 1
                return .int(catalogue.plugins.count)
            }
        }
        let first = await answer()
        #expect(first == .int(await store.catalogue().plugins.count))
        #expect(await answer() == first)
        #expect(builds == 1, "kept with the catalogue")

        _ = await store.rescan().value
        #expect(await answer() == first)
        #expect(builds == 2, "a new read, a new answer")

        let deadline = ContinuousClock.now + .seconds(20)
        while store.isHeld, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!store.isHeld)
        #expect(await answer() == first)
        #expect(builds == 3, "let go with the catalogue, built again from the next read")
    }
}
