import Foundation
import Messaging
import TestSupport
import Testing

/// Thousands of hostile messages at every listening socket of a running stack: each gets an
/// answer, nothing crashes, memory stays flat, and a valid call is still served afterwards.
@Suite(.serialized, .jackAlone, .timeLimit(.minutes(15))) struct HostileInputTests {
    static let count = ProcessInfo.processInfo.environment["MARLISE_HOSTILE_COUNT"].flatMap(Int.init) ?? 10_000

    static let sessionMethods = [
        "echo", "health_check", "get_metrics", "list_plugins", "get_plugins_bulk", "get_plugin_info_by_uri",
        "load_plugin", "add_plugin", "unload_plugin", "remove_plugin", "get_plugin_info", "list_instances",
        "set_parameter", "get_parameter", "load_preset", "save_preset", "show_presets", "create_pedalboard",
        "get_current_pedalboard", "save_pedalboard", "get_pedalboard_list", "get_pedalboard_info",
        "load_pedalboard", "delete_pedalboard", "rename_pedalboard", "duplicate_pedalboard", "export_pedalboard",
        "import_pedalboard", "create_connection", "remove_connection", "list_connections", "create_snapshot",
        "apply_snapshot", "save_snapshot", "save_snapshot_as", "list_snapshots", "rename_snapshot",
        "remove_snapshot", "load_snapshot", "get_banks", "save_banks", "add_favorite", "remove_favorite",
        "get_config", "set_config", "shutdown", "reboot", "install_package", "login", "get_jack_data",
        "connect_jack_ports", "no_such_method", "",
    ]

    @Test func everySocketAnswersHostileInputAndKeepsServing() async throws {
        let stack = try await Stack()
        do {
            try await attack(stack)
        } catch {
            Issue.record("supervisor: \(stack.log("supervisor").suffix(2000))")
            _ = try? await stack.stop()
            throw error
        }
        #expect(try await stack.stop() == 0)
    }

    private func attack(_ stack: Stack) async throws {
        var input = HostileInput(seed: UInt64(ProcessInfo.processInfo.environment["MARLISE_HOSTILE_SEED"] ?? "") ?? 7)
        let services = ["host", "bridge", "session"]
        var pids: [String: Int32] = [:]
        for service in services { pids[service] = try await stack.pid(service) }
        pids["supervisor"] = stack.supervisor.pid

        // Warm up with the same mix (caches, malloc's arenas reach their working size), then
        // measure memory before and after: what remains is growth, not the allocator settling.
        try await hitSession(stack, &input, count: Self.count / 4, bigFirst: 40)
        try await hitBridge(stack, &input, endpoint: stack.ports.bridge, count: Self.count / 4)
        let before = pids.mapValues(residentKiB)

        let clock = ContinuousClock()
        var mark = clock.now
        func lap(_ what: String) {
            print("hostile: \(what) took \(clock.now - mark)")
            mark = clock.now
        }
        try await hitSession(stack, &input, count: Self.count)
        lap("\(Self.count) to the session")
        try await hitBridge(stack, &input, endpoint: stack.ports.bridge, count: Self.count)
        lap("\(Self.count) to the bridge")
        try await hitBridge(stack, &input, endpoint: stack.ports.bridgeHealth, count: Self.count / 5)
        lap("\(Self.count / 5) to the bridge's health")
        try await hitSupervisor(stack, &input, count: Self.count / 5)
        lap("\(Self.count / 5) to the supervisor")
        try await hitHTTP(stack, &input, count: Self.count / 5)
        lap("\(Self.count / 5) to HTTP")
        // Log service names: only a plain name reaches the log folder.
        for name in [
            "../../etc/passwd", "/etc/passwd", "..", "a/b", "../logs/session", String(repeating: "x/", count: 5000),
        ] {
            let printed = try await marlisectl(["logs", name, "--log-dir", stack.logs.path])
            #expect(printed.contains("is not a service name"), "logs \(name.prefix(40)): \(printed.prefix(200))")
            #expect(!printed.contains("root:"))
        }
        try await hitHost(stack, &input, count: Self.count / 5)
        lap("\(Self.count / 5) to the host")

        // Still the same processes (nothing crashed), memory flat, valid calls answered.
        for service in services {
            #expect(try await stack.pid(service) == pids[service], "\(service) was restarted: it crashed or hung")
        }
        let after = pids.mapValues(residentKiB)
        for (name, kib) in before {
            let grown = Double(after[name] ?? 0) / Double(max(kib, 1))
            print("hostile: \(name) RSS \(kib) KiB → \(after[name] ?? 0) KiB")
            // AddressSanitizer keeps freed memory in quarantine (256 MB) by design, so resident size
            // says nothing there; its leak check covers this instead.
            if sanitizer != "address" {
                #expect(grown <= 1.10, "\(name) grew from \(kib) KiB to \(after[name] ?? 0) KiB")
            }
        }
        #expect(try await stack.session.call("echo", params: ["still": "here"])["echo"]?["still"] == "here")
        let health = try await stack.health()
        #expect(health.0 == 200, "health after the attack: \(health.1.jsonText.prefix(500))")
        #expect(try await stack.host("cpu_load").contains("resp 0"))
    }

    /// The session: envelopes with every method and hostile parameters, and garbage frames.
    /// - Parameter bigFirst: this many 2 MiB requests first, so memory measured later has seen them.
    private func hitSession(_ stack: Stack, _ input: inout HostileInput, count: Int, bigFirst: Int = 0) async throws {
        let peer = try RawPeer(.req, connectTo: "tcp://127.0.0.1:\(stack.ports.session)")
        defer { Task { await peer.close() } }
        let valid = JSONValue.object(["method": "echo", "params": [:], "request_id": "r"]).serialized()
        for index in 0..<bigFirst {
            let name = JSONValue.string(String(repeating: "y", count: 2 << 20))
            try await peer.send([
                JSONValue.object(["method": "create_pedalboard", "params": ["name": name], "request_id": .int(index)])
                    .serialized()
            ])
            guard try await peer.receive(timeout: .seconds(20)) != nil else { throw TestFailure("session: no reply") }
        }
        for index in 0..<count {
            let garbage = input.below(3) == 0
            let frame: Data
            if garbage {
                frame = input.garbage(truncating: valid)
            } else {
                var params = input.parameters()
                if input.below(500) == 0 { params["name"] = .string(String(repeating: "y", count: 2 << 20)) }
                let method = Self.sessionMethods[input.below(Self.sessionMethods.count)]
                frame = JSONValue.object([
                    "method": .string(method), "params": input.below(20) == 0 ? input.value() : .object(params),
                    "request_id": .string("hostile-\(index)"),
                ]).serialized()
            }
            try await peer.send([frame])
            guard let reply = try await peer.receive(timeout: .seconds(20)), reply.count == 1 else {
                throw TestFailure("session: no reply to message \(index): \(frame.prefix(200))")
            }
            let parsed = try JSONValue(parsing: reply[0])
            if garbage && frame != valid {
                #expect(
                    parsed["error"] != nil && parsed["code"]?.stringValue != nil || parsed["result"] != nil,
                    "session reply to garbage: \(parsed.jsonText.prefix(300))"
                )
            }
        }
    }

    /// The bridge's request or health endpoint: every request shape with hostile fields, and garbage.
    private func hitBridge(_ stack: Stack, _ input: inout HostileInput, endpoint port: Int, count: Int) async throws {
        let peer = try RawPeer(.req, connectTo: "tcp://127.0.0.1:\(port)")
        defer { Task { await peer.close() } }
        let methods = [
            "load_plugin", "unload_plugin", "set_parameter", "get_parameter", "get_plugin_info", "list_instances",
            "search_plugins", "get_plugin_presets", "load_preset", "save_preset", "get_plugin_essentials",
            "add_bundle", "remove_bundle", "init_jack", "get_jack_data", "get_jack_port_alias",
            "connect_jack_ports", "disconnect_all_jack_ports", "set_jack_buffer_size", "nope",
        ]
        for index in 0..<count {
            var request = input.parameters()
            let frame: Data
            switch input.below(5) {
            case 0:
                frame = input.garbage(truncating: Data(#"{"action":"health"}"#.utf8))
            case 1:
                let command = input.below(2) == 0 ? input.name() : "param_set 0 gain \(input.name())"
                frame = JSONValue.object(["command": .string(command)]).serialized()
            case 2:
                frame = JSONValue.object(["name": .string(input.name()), "args": input.value()]).serialized()
            default:
                request["action"] = .string(["plugin", "audio", "health", input.name()][input.below(4)])
                request["method"] = .string(methods[input.below(methods.count)])
                if request["method"] == "set_jack_buffer_size" { request["size"] = .int(input.below(2) == 0 ? 0 : 7) }
                frame = JSONValue.object(request).serialized()
            }
            try await peer.send([frame])
            guard let reply = try await peer.receive(timeout: .seconds(20)) else {
                throw TestFailure("bridge :\(port): no reply to message \(index): \(frame.prefix(200))")
            }
            #expect((try? JSONValue(parsing: reply.last ?? Data())) != nil, "bridge reply is not JSON")
        }
    }

    /// The supervisor's health RPC: only hostile service names, never a real one.
    private func hitSupervisor(_ stack: Stack, _ input: inout HostileInput, count: Int) async throws {
        let peer = try RawPeer(.req, connectTo: "tcp://127.0.0.1:\(stack.ports.supervisor)")
        defer { Task { await peer.close() } }
        let methods = ["health_check", "restart_service", "stop_service", "start_service", "reload", "nope"]
        for index in 0..<count {
            let frame: Data =
                input.below(3) == 0
                ? input.garbage(truncating: Data(#"{"method":"health_check"}"#.utf8))
                : JSONValue.object([
                    "method": .string(methods[input.below(methods.count)]),
                    "params": ["service": .string(input.name()), "name": input.value()],
                ]).serialized()
            try await peer.send([frame])
            guard try await peer.receive(timeout: .seconds(20)) != nil else {
                throw TestFailure("supervisor: no reply to message \(index)")
            }
        }
    }

    /// The HTTP health server: hostile methods and paths.
    private func hitHTTP(_ stack: Stack, _ input: inout HostileInput, count: Int) async throws {
        for _ in 0..<count {
            let method = ["GET", "HEAD", "POST", "DELETE", "BREW", "G\u{0}T"][input.below(6)]
            let name = input.name().replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(
                of: " ",
                with: "%20"
            )
            let path = ["/health/\(name)", "/\(name)", "/metrics?\(name)", "/health/../../etc/passwd"][input.below(4)]
            do {
                let (status, _) = try await httpRequest(method, path, port: UInt16(stack.ports.http))
                // `/health/.` is `/health/` once dot segments are removed (RFC 3986): the report, rightly;
                // `/` (an empty name) is the operator's page.
                let harmless =
                    path.hasPrefix("/metrics") || path == "/health/" || path.hasSuffix("/.") || path == "/"
                    || path == "/history"
                #expect((400...599).contains(status) || harmless, "\(method) \(path): \(status)")
            } catch {
                // A request line that is not HTTP may be answered by closing the connection.
                #expect(method.contains("\u{0}"), "\(method) \(path): \(error)")
            }
        }
    }

    /// marlise-host's command port: hostile commands, each NUL-terminated and answered.
    private func hitHost(_ stack: Stack, _ input: inout HostileInput, count: Int) async throws {
        let port = stack.ports.host
        var messages: [[UInt8]] = []
        for _ in 0..<count {
            var bytes: [UInt8]
            switch input.below(4) {
            case 0: bytes = (0..<input.below(300)).map { _ in UInt8(truncatingIfNeeded: input.next()) }
            case 1: bytes = Array("preset_show \(input.name())".utf8)
            case 2: bytes = Array("param_set \(input.below(20_000) - 5_000) \(input.name()) 1".utf8)
            default:
                let verb = ["add", "remove", "connect", "bypass", "help", ""][input.below(6)]
                bytes = Array("\(verb) \(input.name())".utf8)
            }
            messages.append(bytes.map { $0 == 0 ? 1 : $0 } + [0])
        }
        let batch = messages
        try await onThread {
            let connection = try HostConnection(port: port, timeout: 10)
            for (index, bytes) in batch.enumerated() {
                try connection.write(bytes)
                guard try connection.message() != nil else {
                    throw TestFailure("host: no reply to message \(index)")
                }
            }
        }
    }
}

/// VmRSS of a process, in KiB.
func residentKiB(_ pid: Int32) -> Int {
    let status = readTextFile(atPath: "/proc/\(pid)/status") ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
