import Foundation
import LV2

/// The host's LV2 world, read on a thread of its own from the host's start, so the host listens and
/// answers at once whatever the number of bundles installed. Only the commands that need plugins
/// (`add`, presets, state, bundles) wait for the read; they then see every bundle, as if it had been
/// read before the first command.
///
/// The loading thread is the world's only user until it signals; after that, the serving thread is.
final class WorldLoad: @unchecked Sendable {
    private let condition = NSCondition()
    private var done = false
    private let loaded: LV2World

    /// `delay` holds the read back (tests: a command answered before the world is read).
    init?(delay: Duration = .zero) {
        guard let world = LV2World.unloaded() else { return nil }
        loaded = world
        let thread = Thread { [self] in
            if delay > .zero {
                Thread.sleep(
                    forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                )
            }
            loaded.loadAll()
            condition.lock()
            done = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "lv2 world"
        thread.start()
    }

    /// The world, once every bundle has been read (waits for the read in progress).
    var world: LV2World {
        condition.lock()
        defer { condition.unlock() }
        while !done { condition.wait() }
        return loaded
    }
}
