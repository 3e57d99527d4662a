import Foundation
public import LV2
import Locking
import Messaging

/// The LV2 plugins on this machine, read once in the background at start (from the catalogue
/// cache when no bundle changed since it was written) and scanned again on `rescan_plugins`. A
/// lilv scan blocks for a while, so it runs on a thread of its own, never on the cooperative pool;
/// callers await the read in progress.
public final class CatalogueStore: Sendable {
    private let current = Locked<Task<PluginCatalogue, Never>?>(nil)
    private let cache: CatalogueCache?

    /// `cache` defaults to `MARLISE_BRIDGE_CATALOGUE_CACHE`, else `~/.cache/marlise/bridge-catalogue.json`.
    public init(cache: CatalogueCache? = CatalogueStore.defaultCache) {
        self.cache = cache
    }

    public static var defaultCache: CatalogueCache {
        let environment = ProcessInfo.processInfo.environment
        if let file = environment["MARLISE_BRIDGE_CATALOGUE_CACHE"], !file.isEmpty { return CatalogueCache(file: file) }
        let folder = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
        return CatalogueCache(file: folder + "/marlise/bridge-catalogue.json")
    }

    /// Starts a read; callers of ``catalogue()`` get its result once it is done. `rescanning`
    /// skips the cache (a bundle or preset was just written, or a client asked for a rescan).
    @discardableResult
    public func rescan(rescanning: Bool = true) -> Task<PluginCatalogue, Never> {
        let cache = cache
        let task = Task<PluginCatalogue, Never> {
            await onThread(named: "lv2 scan") { PluginCatalogue.load(cache: cache, rescanning: rescanning) }
        }
        current.withLock { $0 = task }
        return task
    }

    /// The latest read's catalogue (waits for a read in progress; starts one if none ever ran).
    public func catalogue() async -> PluginCatalogue {
        let task = current.withLock { $0 } ?? rescan(rescanning: false)
        return await task.value
    }
}
