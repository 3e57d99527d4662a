import Foundation
public import LV2
import Locking
import Messaging

/// The LV2 plugins on this machine, read when a request first needs them (from the catalogue cache
/// when no bundle changed since it was written), scanned again on `rescan_plugins`, and let go
/// once no request has needed them for ``idleRelease``: with hundreds of plugins the catalogue is
/// tens of megabytes the bridge need not hold while it only relays commands. A lilv scan blocks for
/// a while, so it runs on a thread of its own, never on the cooperative pool; callers await the
/// read in progress.
public final class CatalogueStore: Sendable {
    private struct State {
        var read: Task<PluginCatalogue, Never>?
        /// Opens the start's read, deferred until a caller needs the catalogue.
        var opening: AsyncStream<Void>.Continuation?
        var lastUse = ContinuousClock.now
        var releasing = false
        /// The list answer built from `read`'s catalogue, let go with it.
        var listAnswer: (read: Task<PluginCatalogue, Never>, answer: JSONValue)?
    }

    private let state = Locked(State())
    private let cache: CatalogueCache?
    /// How long the catalogue is kept after the last request that needed it.
    public let idleRelease: Duration

    /// `cache` defaults to `MARLISE_BRIDGE_CATALOGUE_CACHE`, else `~/.cache/marlise/bridge-catalogue.json`.
    public init(
        cache: CatalogueCache? = CatalogueStore.defaultCache,
        idleRelease: Duration = CatalogueStore.defaultIdleRelease
    ) {
        self.cache = cache
        self.idleRelease = idleRelease
    }

    public static var defaultCache: CatalogueCache {
        let environment = ProcessInfo.processInfo.environment
        if let file = environment["MARLISE_BRIDGE_CATALOGUE_CACHE"], !file.isEmpty { return CatalogueCache(file: file) }
        let folder = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
        return CatalogueCache(file: folder + "/marlise/bridge-catalogue.json")
    }

    /// `MARLISE_BRIDGE_CATALOGUE_IDLE_SECONDS`, else 30 s.
    public static var defaultIdleRelease: Duration {
        let text = ProcessInfo.processInfo.environment["MARLISE_BRIDGE_CATALOGUE_IDLE_SECONDS"] ?? ""
        return .milliseconds(Int((Double(text) ?? 30) * 1000))
    }

    /// Starts a read; callers of ``catalogue()`` get its result once it is done. `rescanning`
    /// skips the cache (a bundle or preset was just written, or a client asked for a rescan).
    /// Without `rescanning`, a read is only prepared: it starts when a caller first needs it.
    @discardableResult
    public func rescan(rescanning: Bool = true) -> Task<PluginCatalogue, Never> {
        if !rescanning, let prepared = state.withLock({ $0.read }) { return prepared }
        let (opened, opening) = AsyncStream<Void>.makeStream()
        let task = makeRead(rescanning: rescanning, after: rescanning ? nil : opened)
        let previous = state.withLock { state in
            defer {
                state.read = task
                state.opening = rescanning ? nil : opening
                state.listAnswer = nil
            }
            return state.opening
        }
        previous?.finish()
        if rescanning {
            opening.finish()
            state.withLock { $0.lastUse = .now }
            scheduleRelease()
        }
        return task
    }

    /// Whether a catalogue is held or being read (not before the first need, nor once let go).
    public var isHeld: Bool { state.withLock { $0.read != nil && $0.opening == nil } }

    /// The latest read's catalogue (waits for a read in progress; starts one if none is held).
    public func catalogue() async -> PluginCatalogue { await held().catalogue }

    /// `build`'s answer from the latest read's catalogue, built once per read: a list of 580
    /// plugins takes tens of milliseconds to build and is asked for whole, again and again.
    func listAnswer(building build: (PluginCatalogue) -> JSONValue) async -> JSONValue {
        let (read, catalogue) = await held()
        guard let read else { return build(catalogue) }
        if let kept = state.withLock({ $0.listAnswer?.read == read ? $0.listAnswer?.answer : nil }) { return kept }
        let answer = build(catalogue)
        state.withLock { state in
            if state.read == read { state.listAnswer = (read, answer) }
        }
        return answer
    }

    /// The latest read and its catalogue (waits for a read in progress; starts one if none is held).
    private func held() async -> (read: Task<PluginCatalogue, Never>?, catalogue: PluginCatalogue) {
        let (task, opening) = state.withLock { state in
            if state.read == nil { state.read = makeRead(rescanning: false, after: nil) }
            state.lastUse = .now
            defer { state.opening = nil }
            return (state.read, state.opening)
        }
        opening?.finish()
        let catalogue = await task?.value ?? PluginCatalogue(plugins: [])
        state.withLock { $0.lastUse = .now }
        scheduleRelease()
        return (task, catalogue)
    }

    private func makeRead(rescanning: Bool, after gate: AsyncStream<Void>?) -> Task<PluginCatalogue, Never> {
        let cache = cache
        return Task<PluginCatalogue, Never> {
            if let gate { for await _ in gate {} }
            return await onThread(named: "lv2 scan") { PluginCatalogue.load(cache: cache, rescanning: rescanning) }
        }
    }

    /// Lets the catalogue go once no caller has needed it for ``idleRelease``, when the cache
    /// holds it (so the next need reads the file, not every bundle).
    private func scheduleRelease() {
        let start = state.withLock { state in
            defer { state.releasing = true }
            return !state.releasing
        }
        guard start else { return }
        Task { [weak self] in
            while let self {
                let due = state.withLock { $0.lastUse } + idleRelease
                if ContinuousClock.now < due {
                    try? await Task.sleep(until: due, clock: .continuous)
                    continue
                }
                let cached = cache.map { FileManager.default.fileExists(atPath: $0.file) } ?? false
                let released = state.withLock { state -> Bool in
                    defer { state.releasing = false }
                    guard cached, state.opening == nil, ContinuousClock.now >= state.lastUse + idleRelease else {
                        return false
                    }
                    state.read = nil
                    state.listAnswer = nil
                    return true
                }
                if released { await onThread(named: "lv2 release") { releaseFreedMemory() } }
                return
            }
        }
    }
}
