import ArgumentParser
import Bridge
import Foundation
import Messaging

@main
struct MarliseBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlise-bridge",
        abstract: "Drop-in for the C++ modhost-bridge (JSON over ZeroMQ to mod-host's TCP protocol)."
    )

    func run() async throws {
        let configuration = try BridgeConfiguration(environment: Environment(ProcessInfo.processInfo.environment))
        // Refuse plainly rather than pretend: nothing is served until the bridge is built (issue 6).
        FileHandle.standardError.write(
            Data("marlise-bridge: not built yet (issue 6); would serve \(configuration.replyEndpoint)\n".utf8)
        )
        throw ExitCode(2)
    }
}
