import Supervisor
import Testing

/// The config file: real TOML, every section applied, every syntax error named by file and line, every
/// wrong value by its key.
@Suite struct ConfigFileTests {
    static let environment = ["PATH": "/usr/bin:/bin"]
    static let own = "/opt/marlise/bin"

    static func configuration(_ text: String) throws(ConfigFileError) -> SupervisorConfiguration {
        var configuration = SupervisorConfiguration.defaultStack(environment: environment, ownExecutables: own)
        try configuration.apply(configText: text, name: "test.toml", environment: environment, ownExecutables: own)
        return configuration
    }

    static func error(_ text: String) -> ConfigFileError? {
        do {
            _ = try configuration(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func anEmptyFileChangesNothing() throws {
        let defaults = SupervisorConfiguration.defaultStack(environment: Self.environment, ownExecutables: Self.own)
        #expect(try Self.configuration("# nothing here\n\n") == defaults)
        #expect(defaults.services.map(\.name) == ["jack", "host", "bridge", "session"])
        #expect(defaults.services[0].arguments == ["-n", "marlise", "-d", "dummy", "-r", "48000", "-p", "256"])
        #expect(defaults.services[2].executable == "/opt/marlise/bin/marlise-bridge")
        // Log files named where the documentation tells an operator to look.
        #expect(defaults.services.map(\.logName) == ["jack", "mod-host", "modhost-bridge", "session-manager"])
        // Our bridge rides out a host restart by itself; the C++ one must restart with its host.
        #expect(defaults.services.map(\.dependencies) == [[], ["jack"], ["jack"], ["jack"]])
        let cpp = SupervisorConfiguration.defaultStack(
            environment: Self.environment.merging(["MODHOST_BRIDGE_BIN": "/usr/bin/true"]) { $1 },
            ownExecutables: Self.own
        )
        #expect(cpp.services[2].dependencies == ["host"])
    }

    @Test func jackAndHostSettingsReachTheServices() throws {
        let configuration = try Self.configuration(
            """
            [jack]
            server = "studio"   # a comment
            driver = "alsa"
            device = "hw:1"
            rate = 44100
            period = 128

            [host]
            port = 15555
            feedback_port = 15556
            """
        )
        let jack = configuration.services[0]
        #expect(jack.arguments == ["-n", "studio", "-d", "alsa", "-d", "hw:1", "-r", "44100", "-p", "128"])
        #expect(jack.readiness == .jack(server: "studio"))
        #expect(jack.liveness == .jack(server: "studio"))
        #expect(configuration.services[1].arguments == ["-n", "-p", "15555", "-f", "15556"])
        #expect(configuration.services[1].readiness == .tcp(port: 15555))
    }

    @Test func logHealthAndServiceKeys() throws {
        let configuration = try Self.configuration(
            """
            [log]
            dir = "/var/log/marlise"
            max_bytes = 1_048_576
            keep = 3

            [health]
            http = "127.0.0.1:18080"

            [service.session]
            env = ["MODHOST_BRIDGE_TIMEOUT=2.5", "A=b=c"]
            probe_interval = 0.5
            failure_threshold = 4
            stop_timeout = 3
            stop_signal = "SIGINT"
            max_restarts = 9
            restart_delay = 0.25
            alive = "none"
            required = false

            [service.monitor]
            command = "/usr/bin/monitor"
            args = ["--verbose"]
            depends = ["session"]
            ready = "tcp:9000"
            """
        )
        #expect(configuration.logDirectory == "/var/log/marlise")
        #expect(configuration.logMaxBytes == 1_048_576)
        #expect(configuration.logKeep == 3)
        #expect(configuration.httpAddress == "127.0.0.1:18080")
        let session = try #require(configuration.services.first { $0.name == "session" })
        #expect(session.environment == ["MODHOST_BRIDGE_TIMEOUT": "2.5", "A": "b=c"])
        #expect(session.probe.interval == .milliseconds(500))
        #expect(session.probe.failureThreshold == 4)
        #expect(session.stopTimeout == .seconds(3))
        #expect(session.stopSignal == 2)
        #expect(session.restart.maxRestarts == 9)
        #expect(session.restart.initialDelay == .milliseconds(250))
        #expect(session.liveness == nil)
        #expect(!session.required)
        let monitor = try #require(configuration.services.last)
        #expect(monitor.name == "monitor")
        #expect(monitor.executable == "/usr/bin/monitor")
        #expect(monitor.dependencies == ["session"])
        #expect(monitor.readiness == .tcp(port: 9000))
    }

    @Test func realTOMLIsAccepted() throws {
        let configuration = try Self.configuration(
            """
            # inline tables, dotted keys, literal strings, multi-line arrays, comments anywhere
            jack = { server = 'studio', rate = 44100 }  # an inline table
            log.keep = 2
            health.http = "127.0.0.1:18080"

            [service.bridge]  # a comment after a header
            max_restarts = 7

            [service]
            monitor = { command = '/usr/bin/monitor', depends = ["session"], ready = "tcp:9000" }
            session.env = [
                "A=1",  # first
                'B=C:\\path',
            ]
            """
        )
        #expect(configuration.jack.server == "studio")
        #expect(configuration.jack.rate == 44100)
        #expect(configuration.logKeep == 2)
        #expect(configuration.httpAddress == "127.0.0.1:18080")
        #expect(configuration.services.first { $0.name == "bridge" }?.restart.maxRestarts == 7)
        let monitor = try #require(configuration.services.first { $0.name == "monitor" })
        #expect(monitor.executable == "/usr/bin/monitor")
        #expect(monitor.dependencies == ["session"])
        #expect(monitor.readiness == .tcp(port: 9000))
        #expect(configuration.services.first { $0.name == "session" }?.environment == ["A": "1", "B": #"C:\path"#])
    }

    @Test func inlineTablesMultiLineArraysAndDottedKeysMeanTheSameAsSections() throws {
        let sections = try Self.configuration(
            """
            [service.monitor]
            command = "/usr/bin/monitor"
            args = ["--verbose", "--once"]
            """
        )
        for spelling in [
            #"service.monitor = { command = "/usr/bin/monitor", args = ["--verbose", "--once"] }"#,
            """
            service.monitor.command = "/usr/bin/monitor"
            service.monitor.args = [
                "--verbose",
                "--once",  # a trailing comma is allowed
            ]
            """,
            """
            [service]
            monitor.command = '/usr/bin/monitor'
            monitor.args = ['''--verbose''', "--once"]
            """,
        ] {
            #expect(try Self.configuration(spelling) == sections, "\(spelling)")
        }
    }

    @Test(arguments: [
        ("[jack]\nrate = \"fast\"", "jack.rate", "expected an integer, not a string"),
        ("[jack]\nperiod = 100", "jack.period", "power of two"),
        ("[jack]\nspeed = 3", "jack.speed", "unknown key"),
        ("\n[sound]\nx = 1", "sound", "unknown section"),
        ("[host]\nport = 70000", "host.port", "out of range"),
        ("[service.session]\ndepends = [\"nothing\"]", "service.session.depends", "no service named 'nothing'"),
        ("[service.jack]\ndepends = [\"session\"]", "service.jack.depends", "dependency cycle"),
        ("[service.jack]\nready = \"sometimes\"", "service.jack.ready", "not a probe"),
        ("[service.new]\nargs = []", "service.new.command", "needs a command"),
        ("[service.jack]\nstop_signal = \"SIGFOO\"", "service.jack.stop_signal", "SIGTERM"),
        ("[service.jack]\nstop_timeout = -1", "service.jack.stop_timeout", "out of range"),
        ("[service.bridge]\nmax_restarts = \"3\"", "service.bridge.max_restarts", "expected an integer"),
        ("service.bridge = { max_restarts = 2.5 }", "service.bridge.max_restarts", "not a number"),
        ("[service.bridge]\nargs = [1, 2]", "service.bridge.args", "an array holding an integer"),
        ("[service.bridge]\nstop_timeout = 1979-05-27", "service.bridge.stop_timeout", "not a date"),
        ("[jack]\nserver = { name = \"x\" }", "jack.server", "not a table"),
        ("rate = 48000", "rate", "outside any section"),
        ("service = 3", "service", "outside any section"),
        ("service.bridge = 3", "service.bridge", "a service is a table"),
    ])
    func wrongValuesAreNamedByKey(text: String, key: String, fragment: String) throws {
        let error = try #require(Self.error(text), "accepted: \(text)")
        #expect(error.file == "test.toml")
        #expect(error.line == 0, "\(error)")
        #expect(error.key == key, "\(error)")
        #expect(error.message.contains(fragment), "\(error)")
        #expect("\(error)".hasPrefix("test.toml: key '\(key)': "), "\(error)")
    }

    @Test(arguments: [
        ("[log]\nkeep = 2\nkeep = 3", 3),
        ("[jack]\nserver = \"open", 2),
        ("[jack]\nserver studio", 2),
        ("[jack]\nrate = 1\n[jack]\nperiod = 64", 3),
        ("# one\n\n[service.bridge]\nargs = [\n  \"a\",\n  \"b\"\n  \"c\"\n]", 7),
        ("[jack]\nrate = 99999999999999999999", 2),
    ])
    func syntaxErrorsAreNamedByFileAndLine(text: String, line: Int) throws {
        let error = try #require(Self.error(text), "accepted: \(text)")
        #expect(error.file == "test.toml")
        #expect(error.line == line, "\(error)")
        #expect(error.column > 0, "\(error)")
        #expect(error.key == nil, "\(error)")
        #expect("\(error)".hasPrefix("test.toml:\(line):\(error.column): "), "\(error)")
    }

    @Test func aMissingFileIsNamed() {
        var configuration = SupervisorConfiguration.defaultStack(
            environment: Self.environment,
            ownExecutables: Self.own
        )
        #expect(throws: ConfigFileError.self) {
            try configuration.apply(
                configFile: "/nonexistent/marlise.toml",
                environment: Self.environment,
                ownExecutables: Self.own
            )
        }
    }

    @Test func printedConfigurationReadsBackTheSame() throws {
        let original = try Self.configuration(
            """
            [jack]
            server = "x"
            device = "hw:0"
            [service.session]
            env = ["K=v \\"quoted\\""]
            probe_timeout = 0.02
            [service.extra]
            command = "/bin/true"
            depends = ["jack"]
            alive = "rpc:tcp://127.0.0.1:9#echo"
            """
        )
        let again = try Self.configuration(original.configurationText)
        #expect(again == original)
        // Control characters are escaped: TOML refuses them raw in a string.
        var odd = original
        odd.services[0].arguments.append("a\rb\u{7F}c\u{1}")
        #expect(try Self.configuration(odd.configurationText) == odd)
    }
}

/// Which log file `marlisectl logs <name>` means.
@Suite struct LogNameTests {
    @Test func aServiceIsFoundByItsNameOrItsLogFileStem() throws {
        var configuration = try ConfigFileTests.configuration("[service.extra]\ncommand = \"/bin/true\"")
        for (asked, file) in [
            ("session", "session-manager"), ("session-manager", "session-manager"), ("bridge", "modhost-bridge"),
            ("modhost-bridge", "modhost-bridge"), ("host", "mod-host"), ("mod-host", "mod-host"), ("jack", "jack"),
            ("supervisor", "supervisor"), ("extra", "extra"),
        ] {
            #expect(configuration.logName(of: asked) == file, "\(asked)")
        }
        #expect(configuration.logName(of: "nosuch") == nil)
        // Only services that run have a log to show.
        configuration.only = ["jack"]
        #expect(configuration.logName(of: "session-manager") == nil)
        #expect(configuration.logName(of: "jack") == "jack")
    }
}
