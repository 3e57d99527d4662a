import Foundation
public import Messaging

#if canImport(Glibc)
import Glibc
#endif

/// Health, metrics and the audio system (JACK through the bridge).
extension Session {
    /// The true state: the bridge as its health endpoint last answered (probed continuously, so this
    /// reply never waits on it), the host and JACK as the bridge reports them, and every stored file
    /// that could not be read (as found at start-up and at the last listing: health reads no files).
    /// `healthy` is about the audio path; a skipped file is reported, not a reason to restart.
    public nonisolated func health() -> JSONValue {
        let status = bridge.status
        let facts = facts.withLock { $0 }
        let host = status.hostConnected ?? false
        let healthy = status.bridgeConnected && host
        return [
            "status": .string(healthy ? "healthy" : "degraded"), "service": "session_manager",
            "version": .string(Session.version), "healthy": .bool(healthy),
            "bridge_connected": .bool(status.bridgeConnected), "mod_host_connected": .bool(host),
            "jack_running": status.jackRunning.map { .bool($0) } ?? .null,
            "details": [
                "bridge_endpoint": .string(bridge.settings.endpoint), "storage_ok": .bool(facts.problems.isEmpty),
                "storage_problems": .array(facts.problems.map { .string($0) }),
                "active_plugins": .int(facts.activePlugins), "last_resync": facts.lastResync,
            ],
        ]
    }

    public func metrics() -> JSONValue {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpuSeconds =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        let uptime = (ContinuousClock.now - startedAt) / .seconds(1)
        let status = readTextFile(atPath: "/proc/self/status") ?? ""
        func field(_ name: String) -> Double? {
            status.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap {
                Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            }
        }
        return [
            "uptime_seconds": .double(uptime), "memory_mb": .double((field("VmRSS:") ?? 0) / 1024),
            "cpu_percent": .double(uptime > 0 ? cpuSeconds / uptime * 100 : 0),
            "num_threads": .int(Int(field("Threads:") ?? 0)), "bridge_connected": .bool(bridge.status.bridgeConnected),
            "active_plugins": .int(state.plugins.count),
        ]
    }

    /// `cpu_load` / `max_cpu_load` from the host: `resp 0 <float>` in the bridge's reply.
    public func hostLoad(_ command: String) async throws -> JSONValue {
        let reply = try await bridge.command(command, [])
        let text = reply["raw"]?.stringValue ?? reply["status"]?.stringValue ?? ""
        let value =
            reply["value"]?.doubleValue ?? text.split(separator: " ").last.flatMap { Double($0) }
        guard let value else {
            throw RPCError(.bridgeError, "No load in the bridge's reply: \(reply.jsonText.prefix(200))")
        }
        return ["value": .double(value), "cpu_load": .double(value)]
    }

    /// JACK connections as the session made them, by JACK port name.
    public func jackConnections() -> JSONValue {
        let pairs = state.connections.compactMap { connection -> JSONValue? in
            guard let source = try? jackName(plugin: connection.sourcePlugin, port: connection.sourcePort),
                let target = try? jackName(plugin: connection.targetPlugin, port: connection.targetPort)
            else { return nil }
            return [.string(source), .string(target)]
        }
        return ["connections": .array(pairs)]
    }

    /// Connects or disconnects two JACK ports by full name, through the bridge's JACK client.
    public func jackPorts(connect: Bool, _ first: String, _ second: String) async throws -> JSONValue {
        try Self.checkJackPort(first)
        try Self.checkJackPort(second)
        let reply = try await bridge.audio(
            connect ? "connect_jack_ports" : "disconnect_jack_ports",
            ["port1": .string(first), "port2": .string(second)]
        )
        return ["port1": .string(first), "port2": .string(second), "bridge": reply]
    }
}
