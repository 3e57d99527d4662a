import ArgumentParser
import Foundation
import Supervisor

@main
struct MarliseSupervisor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-supervisor",
        abstract: "Starts, watches and restarts the Marlise audio stack."
    )

    @Option(help: "JACK server name to probe.")
    var jackServer = "marlise"

    func run() async throws {
        // Until the supervisor is built (issue 3) it can only tell whether JACK is up.
        switch JackProbe.check(server: jackServer) {
        case .success: print("jack '\(jackServer)': ready")
        case .failure(let error):
            print(error)
            throw ExitCode(1)
        }
    }
}
