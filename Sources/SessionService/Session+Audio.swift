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
            "rpc": rpcStatistics.snapshot.json,
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
                // `Threads:\t3`, `VmRSS:\t  1234 kB`: tabs and spaces alike.
                Double($0.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
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

    /// Connects or disconnects two JACK ports by full name. A wire between the board's plugins and
    /// the system ports (`effect_<n>:<port>`, `<instance_id>:<port>`, `system:<port>`) is the
    /// board's: made as `create_connection` makes it (listed, saved, restored after a crash, dropped
    /// with its plugin) or removed as `remove_connection` does. Other ports (another JACK client's)
    /// are wired through the bridge's JACK client and not kept.
    public func jackPorts(connect: Bool, _ first: String, _ second: String) async throws -> JSONValue {
        try Self.checkJackPort(first)
        try Self.checkJackPort(second)
        if var source = boardEnd(first), var target = boardEnd(second) {
            // JACK wires run from an output to an input, whichever the client named first.
            if !isOutput(source), isOutput(target) { swap(&source, &target) }
            let ends = (source.plugin, source.port, target.plugin, target.port)
            let candidate = Connection(
                sourcePlugin: ends.0,
                sourcePort: ends.1,
                targetPlugin: ends.2,
                targetPort: ends.3
            )
            // A wire to remove that the board does not hold (made outside it) is JACK's alone.
            if connect || state.connection(joining: candidate) != nil {
                let result =
                    connect
                    ? try await createConnection(
                        sourcePlugin: ends.0,
                        sourcePort: ends.1,
                        targetPlugin: ends.2,
                        targetPort: ends.3
                    )
                    : try await removeConnection(id: nil, ends: ends)
                guard case .object(var members) = result else { return result }
                members["port1"] = .string(first)
                members["port2"] = .string(second)
                return .object(members)
            }
        }
        let reply = try await bridge.audio(
            connect ? "connect_jack_ports" : "disconnect_jack_ports",
            ["port1": .string(first), "port2": .string(second)]
        )
        return ["port1": .string(first), "port2": .string(second), "bridge": reply]
    }

    /// Whether a wire may start at `end`: a plugin's output, or a system capture port.
    func isOutput(_ end: (plugin: String, port: String)) -> Bool {
        guard end.plugin != Connection.system else { return end.port.contains("capture") }
        return (try? checkEnd(end.plugin, end.port, direction: .output)) != nil
    }

    /// The board's end a JACK port name stands for: a system port, or a port of one of the board's
    /// plugins by its host number (`effect_3:in`) or its instance id.
    func boardEnd(_ jackPort: String) -> (plugin: String, port: String)? {
        guard let colon = jackPort.firstIndex(of: ":") else { return nil }
        let client = String(jackPort[..<colon])
        let port = String(jackPort[jackPort.index(after: colon)...])
        if client == Connection.system { return (client, port) }
        if client.hasPrefix("effect_"), let number = Int(client.dropFirst("effect_".count)),
            let plugin = state.plugins.first(where: { $0.hostNumber == number })
        {
            return (plugin.instanceID, port)
        }
        if state.plugins.contains(where: { $0.instanceID == client }) { return (client, port) }
        return nil
    }
}
