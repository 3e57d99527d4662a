import Messaging

#if canImport(Glibc)
import Glibc
#endif

extension SupervisorConfiguration {
    /// The effective configuration in the config file's own format (`--print-config`): saved to a
    /// file and read back with `--config`, it gives the same configuration.
    public var configurationText: String {
        var lines = ["# marlise-supervisor: effective configuration", ""]
        // A TOML basic string: control characters are not allowed raw, so every one is escaped.
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\\": out += "\\\\"
                case "\"": out += "\\\""
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        func seconds(_ duration: Duration) -> String {
            let milliseconds = duration.milliseconds()
            return milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
        }

        lines += ["[jack]", "server = \(quoted(jack.server))", "driver = \(quoted(jack.driver))"]
        if let device = jack.device { lines.append("device = \(quoted(device))") }
        lines += ["rate = \(jack.rate)", "period = \(jack.period)", ""]
        lines += ["[host]", "port = \(hostPort)", "feedback_port = \(hostFeedbackPort)", ""]
        lines += ["[log]", "dir = \(quoted(logDirectory))", "max_bytes = \(logMaxBytes)", "keep = \(logKeep)", ""]
        lines += [
            "[health]", "http = \(quoted(httpAddress))", "rpc = \(quoted(healthEndpoint))",
            "events = \(quoted(eventsEndpoint))", "",
        ]
        for spec in services {
            lines += [
                "[service.\(spec.name)]",
                "command = \(quoted(spec.executable))",
                "args = \(list(spec.arguments))",
                "env = \(list(spec.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }))",
            ]
            if let directory = spec.workingDirectory { lines.append("cwd = \(quoted(directory))") }
            lines += [
                "depends = \(list(spec.dependencies))",
                "ready = \(quoted(spec.readiness.description))",
                "alive = \(quoted(spec.liveness?.description ?? "none"))",
                "probe_interval = \(seconds(spec.probe.interval))",
                "probe_timeout = \(seconds(spec.probe.timeout))",
                "failure_threshold = \(spec.probe.failureThreshold)",
                "start_timeout = \(seconds(spec.startTimeout))",
                "stop_timeout = \(seconds(spec.stopTimeout))",
                "stop_signal = \(quoted(signalName(spec.stopSignal)))",
                "restart_delay = \(seconds(spec.restart.initialDelay))",
                "restart_max_delay = \(seconds(spec.restart.maxDelay))",
                "start_seconds = \(seconds(spec.restart.startSeconds))",
                "restart_window = \(seconds(spec.restart.window))",
                "max_restarts = \(spec.restart.maxRestarts)",
                "required = \(spec.required)",
                "audio_path = \(spec.audioPath)",
                "reports_board = \(spec.reportsBoard)",
                "",
            ]
        }
        return lines.joined(separator: "\n")
    }
}
