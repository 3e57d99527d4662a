import ArgumentParser
import AudioHost

@main
struct MarliseHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-host",
        abstract: "LV2 host on JACK and lilv that speaks mod-host's TCP protocol."
    )

    func run() async throws {
        throw ExitCode(69)
    }
}
