import Foundation
import LV2
import Messaging

/// The catalogue beside the serving session: built (or read from its cache) after the socket is
/// bound, with every method that reads it held until it is in place.
extension SessionServer {
    /// Methods that never read the catalogue: answered at once, even during its first build.
    /// `echo` is the supervisor's liveness probe: held behind a cold scan of many plugins, it went
    /// unanswered and the supervisor killed the session before its scan (and cache) was done.
    static let servedDuringCatalogueBuild: Set<String> = [
        "echo", "health_check", "get_metrics", "get_cpu_load", "get_max_cpu_load", "ping_hmi", "get_audio_levels",
        "init_jack", "close_jack", "get_jack_data", "get_jack_buffersize", "connect_jack_ports",
        "disconnect_jack_ports", "get_jack_connections", "get_jack_status", "get_jack_transport",
        "set_jack_transport", "get_jack_xruns", "get_jack_dsp_load", "get_jack_latency", "get_midi_devices",
        "set_midi_devices", "get_transport_sync_mode", "set_transport_sync_mode", "start_recording",
        "stop_recording", "start_playback", "wait_playback", "stop_playback", "download_recording",
        "reset_recording",
    ]

    /// How long a call waits for the first build before it is refused (a cold scan of 600 plugins
    /// takes about 3 s on a 2-core machine).
    static let catalogueWait = Duration.seconds(60)

    /// The cache file under the session's data directory.
    static func catalogueCache(dataDirectory: String) -> CatalogueCache {
        CatalogueCache(file: dataDirectory + "/cache/plugin-catalogue.json")
    }

    /// `router` with every method outside ``servedDuringCatalogueBuild`` waiting for `build`.
    static func gated(_ router: RPCRouter, by build: CatalogueBuild) -> RPCRouter {
        var gated = RPCRouter()
        for method in router.methods {
            guard let handler = router.handler(for: method) else { continue }
            if servedDuringCatalogueBuild.contains(method) {
                gated.register(method, handler)
                continue
            }
            gated.register(method) { request in
                guard await build.wait(upTo: catalogueWait) else {
                    throw RPCError(.busy, "The plugin catalogue is still being read; try again")
                }
                return try await handler(request)
            }
        }
        return gated
    }

    /// Reads the catalogue with `read` and puts it in the session, then gives back the heap its
    /// descriptions held: the session keeps only the list answers and, with a cache file, reads a
    /// description from it when asked.
    @discardableResult
    static func install(in session: Session, _ read: @escaping @Sendable () -> StoredCatalogue) async -> JSONValue {
        // A temporary: the descriptions are freed at the end of this statement.
        let answer = await session.rescan(await onThread(named: "lv2 scan", read))
        await onThread(named: "lv2 release") { releaseFreedMemory() }
        return answer
    }

    /// Reads the catalogue on a thread of its own (`source`: the cache, or lilv when the bundles
    /// changed), puts it in the session, then lets the held calls go on.
    static func buildCatalogue(
        _ session: Session,
        from source: @escaping @Sendable () -> StoredCatalogue,
        build: CatalogueBuild
    ) async {
        await install(in: session, source)
        build.finish()
    }
}
