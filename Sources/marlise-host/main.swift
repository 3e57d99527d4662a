import ArgumentParser
import AudioHost
import Logging

#if canImport(Glibc)
import Glibc
#endif

@main
struct MarliseHost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-host",
        abstract: "LV2 host on JACK and lilv that speaks mod-host's TCP protocol (commands and feedback)."
    )

    @Option(name: [.customShort("p"), .long], help: "Command port.")
    var port: UInt16 = 5555

    @Option(name: [.customShort("f"), .long], help: "Feedback port (0: none).")
    var feedbackPort: UInt16 = 5556

    @Option(help: "Address to listen on.")
    var bind = "127.0.0.1"

    @Option(help: "JACK server name (default: JACK_DEFAULT_SERVER, then libjack's default).")
    var jackServer: String?

    @Flag(name: .customShort("n"), help: "Ignored: marlise-host never forks (accepted for mod-host's command line).")
    var noFork = false

    func run() throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var configuration = HostConfiguration()
        configuration.commandPort = port
        configuration.feedbackPort = feedbackPort
        configuration.bindAddress = bind
        configuration.jackServer = jackServer
        let status = HostServer.run(configuration, logger: Logger(label: "marlise.host"))
        if status != 0 { throw ExitCode(status) }
    }
}
