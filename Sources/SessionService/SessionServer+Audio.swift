import Messaging

/// Health, metrics and the audio system: JACK through the bridge's `audio` actions and the host's
/// structured commands.
extension SessionServer {
    static func registerHealthAndAudio(_ router: inout RPCRouter, _ session: Session) {
        let bridge = session.bridge
        // The parameters back under `echo`, as Marlise's API reference documents it (once: a large
        // echo answered twice over doubled the memory its reply took).
        router.register("echo") { request in ["echo": .object(request.params)] }
        router.method("health_check") { _ in session.health() }
        router.method("get_metrics") { _ in await session.metrics() }
        router.method("get_cpu_load") { _ in try await session.hostLoad("cpu_load") }
        router.method("get_max_cpu_load") { _ in
            var reply = try await session.hostLoad("max_cpu_load")
            if case .object(var members) = reply {
                members["max_cpu_load"] = members["value"]
                reply = .object(members)
            }
            return reply
        }
        // No HMI (MOD's hardware control panel) is attached to this stack: said plainly, not failed.
        router.method("ping_hmi") { _ in ["ihm_online": false, "ihm_time": 0.0] }
        router.method("get_audio_levels") { _ in try await session.audioLevelReadings() }

        // The documented audio methods, passed to the bridge's JACK client.
        router.method("init_jack") { _ in try await bridge.audio("init_jack") }
        router.method("close_jack") { _ in try await bridge.audio("close_jack") }
        router.method("get_jack_data") { request in
            try await bridge.audio(
                "get_jack_data",
                ["with_transport": .bool(try request.optionalBool("with_transport") ?? false)]
            )
        }
        for name in ["set_jack_buffer_size", "set_buffer_size", "set_jack_buffersize"] {
            router.method(name) { request in
                let size = try request.int(oneOfInt: ["size", "buffersize", "buffer_size"])
                guard (16...8192).contains(size), size & (size - 1) == 0 else {
                    throw RPCError(.invalidParameters, "A buffer size is a power of two from 16 to 8192")
                }
                return try await bridge.audio("set_jack_buffer_size", ["size": .int(size)])
            }
        }
        for name in ["get_jack_sample_rate", "get_jack_samplerate"] {
            router.method(name) { _ in try await bridge.audio("get_jack_sample_rate") }
        }
        router.method("get_jack_buffersize") { _ in try await bridge.audio("get_jack_buffer_size") }
        for name in ["reset_xruns", "reset_jack_xruns"] {
            router.method(name) { _ in try await bridge.audio("reset_xruns") }
        }
        router.method("connect_jack_ports") { request in
            try await session.jackPorts(connect: true, try request.string("port1"), try request.string("port2"))
        }
        router.method("disconnect_jack_ports") { request in
            try await session.jackPorts(connect: false, try request.string("port1"), try request.string("port2"))
        }
        router.method("get_jack_connections") { _ in await session.jackConnections() }
        router.method("get_jack_status") { _ in
            var status = try await bridge.audio("get_jack_data", ["with_transport": true])
            if case .object(var members) = status {
                members["bridge_connected"] = true
                status = .object(members)
            }
            return status
        }
        router.method("get_jack_transport") { _ in
            let data = try await bridge.audio("get_jack_data", ["with_transport": true])
            return ["rolling": data["rolling"] ?? .null, "bpm": data["bpm"] ?? .null, "bpb": data["bpb"] ?? .null]
        }
        router.method("set_jack_transport") { request in
            var rolling: Bool?
            if let flag = request.params["state"]?.boolValue {
                rolling = flag
            } else if let state = try request.optionalString("state") {
                switch state {
                case "rolling", "play", "start", "started": rolling = true
                case "stopped", "stop", "pause": rolling = false
                default: throw RPCError(.invalidParameters, "'state' is rolling/stopped or a boolean")
                }
            }
            let bpm = try request.optionalDouble("bpm")
            let bpb = try request.optionalDouble("bpb")
            guard rolling != nil || bpm != nil || bpb != nil else {
                throw RPCError(.invalidParameters, "Missing required parameter 'state' (or 'bpm', 'bpb')")
            }
            return try await session.setTransport(rolling: rolling, bpm: bpm, bpb: bpb)
        }
        router.method("get_jack_xruns") { _ in
            ["xruns": try await bridge.audio("get_jack_data")["xruns"] ?? .null]
        }
        router.method("get_jack_dsp_load") { _ in
            ["dsp_load": try await bridge.audio("get_jack_data")["cpu_load"] ?? .null]
        }
        router.method("get_jack_latency") { _ in
            let size = try await bridge.audio("get_jack_buffer_size")["buffer_size"]?.doubleValue ?? 0
            let rate = try await bridge.audio("get_jack_sample_rate")["sample_rate"]?.doubleValue ?? 0
            return [
                "buffer_size": .double(size), "sample_rate": .double(rate),
                "latency_ms": .double(rate > 0 ? size / rate * 1000 : 0),
            ]
        }
        for (name, isAudio) in [
            ("get_jack_ports", nil), ("get_jack_audio_ports", true), ("get_jack_midi_ports", false),
        ]
            as [(String, Bool?)]
        {
            router.method(name) { _ in
                var result: [String: JSONValue] = [:]
                for audio in isAudio.map({ [$0] }) ?? [true, false] {
                    for output in [true, false] {
                        let reply = try await bridge.audio(
                            "get_jack_hardware_ports",
                            ["is_audio": .bool(audio), "is_output": .bool(output)]
                        )
                        let ports = reply["ports"] ?? reply["result"] ?? reply
                        // `is_output` names the system's outputs: the playback ports.
                        result["\(audio ? "audio" : "midi")_\(output ? "playback" : "capture")"] = ports
                    }
                }
                return .object(result)
            }
        }
        // JACK settings the bridge has no action for: refused, never faked.
        for name in [
            "get_jack_cv_ports", "get_jack_freewheel", "set_jack_freewheel", "get_jack_timebase", "set_jack_timebase",
            "get_jack_repl_sync", "set_jack_repl_sync", "get_jack_repl_latency", "set_jack_repl_latency",
        ] {
            router.method(name) { _ in
                throw RPCError(.notSupported, "'\(name)' has no equivalent in the bridge's JACK API")
            }
        }
    }

    /// Host administration and file access outside the data directory: refused, never executed; and
    /// what this service does not offer yet, said plainly.
    static func registerRefused(_ router: inout RPCRouter) {
        let reasons: [String: String] = [
            "shutdown": "Powering the machine off is not a session-manager call",
            "reboot": "Rebooting the machine is not a session-manager call",
            "install_package": "Installing packages from an unauthenticated socket is refused",
            "remove_package": "Removing packages from an unauthenticated socket is refused",
            "install_update": "Updating the software from an unauthenticated socket is refused",
            "switch_cpu_frequency": "Changing the CPU governor needs root and is refused",
            "set_truebypass": "This machine has no true-bypass relays",
            "begin_update": "Updating the software from an unauthenticated socket is refused",
            "upload_system_image": "Updating the software from an unauthenticated socket is refused",
            "upload_controlchain_firmware": "Updating firmware from an unauthenticated socket is refused",
            "cancel_controlchain_update": "There is no Control Chain update to cancel",
            "uninstall_package": "Removing packages from an unauthenticated socket is refused",
            "get_pedalboard_image":
                "Pedalboard screenshots are not rendered (get_pedalboard_list: hasScreenshot false)",
            "generate_pedalboard_image":
                "Pedalboard screenshots are not rendered (get_pedalboard_list: hasScreenshot false)",
            "wait_pedalboard_image":
                "Pedalboard screenshots are not rendered (get_pedalboard_list: hasScreenshot false)",
            "check_pedalboard_image":
                "Pedalboard screenshots are not rendered (get_pedalboard_list: hasScreenshot false)",
            "login": "There are no user accounts", "logout": "There are no user accounts",
            "get_user_info": "There are no user accounts",
            "upload_file": "File access outside the data directory is refused",
            "download_file": "File access outside the data directory is refused",
            "delete_file": "File access outside the data directory is refused",
            "list_files": "File access outside the data directory is refused",
            "clear_logs": "Logs belong to the supervisor", "get_logs": "Logs belong to the supervisor",
        ]
        for (name, reason) in reasons {
            router.method(name) { _ in throw RPCError(.notSupported, "\(name): \(reason)") }
        }
    }
}

extension RequestEnvelope {
    /// The first of `names` present, as an integer.
    func int(oneOfInt names: [String]) throws(RPCError) -> Int {
        for name in names {
            if let value = try optionalInt(name) { return value }
        }
        throw RPCError(.invalidParameters, "Missing required parameter '\(names[0])'")
    }
}
