import Foundation
public import LV2
import Locking
import Messaging

/// The LV2 plugins on this machine, scanned once in the background at start and again on
/// `rescan_plugins`. A lilv scan blocks for a while, so it runs on a thread of its own, never on
/// the cooperative pool; callers await the scan in progress.
public final class CatalogueStore: Sendable {
    private let current = Locked<Task<PluginCatalogue, Never>?>(nil)

    public init() {}

    /// Starts a scan; callers of ``catalogue()`` get its result once it is done.
    @discardableResult
    public func rescan() -> Task<PluginCatalogue, Never> {
        let task = Task<PluginCatalogue, Never> { await onThread(named: "lv2 scan") { PluginCatalogue.load() } }
        current.withLock { $0 = task }
        return task
    }

    /// The latest scan's catalogue (waits for a scan in progress; starts one if none ever ran).
    public func catalogue() async -> PluginCatalogue {
        let task = current.withLock { $0 } ?? rescan()
        return await task.value
    }
}
