import Foundation
import Messaging
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A marlise-host child process on free ports, joined to `server`.
struct RunningHost {
    let process: TestProcess
    let commandPort: Int
    let feedbackPort: Int
    let log: URL

    init(server: String, environment: [String: String] = [:]) async throws {
        commandPort = try freePort()
        feedbackPort = try freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("marlise-host-\(commandPort).log")
        process = try await TestProcess(
            product("marlise-host"),
            ["-p", "\(commandPort)", "-f", "\(feedbackPort)", "--jack-server", server],
            environment: environment,
            log: log
        )
        // Ready is what the host prints, not a port that answers: another test's listener may hold it.
        let log = log
        let process = process
        try await eventually(within: .seconds(20)) {
            guard process.process.isRunning else { throw TestFailure("marlise-host exited") }
            let text = readTextFile(atPath: log.path) ?? ""
            guard text.contains("mod-host ready!") else { throw TestFailure("marlise-host not ready: \(text)") }
        }
    }

    func connect() async throws -> HostConnection {
        let port = commandPort
        return try await onThread { try HostConnection(port: port) }
    }

    func connectFeedback() async throws -> HostConnection {
        let port = feedbackPort
        return try await onThread { try HostConnection(port: port, timeout: 1) }
    }

    var logText: String { readTextFile(atPath: log.path) ?? "" }
}

extension HostConnection {
    /// `call` off the cooperative pool.
    func ask(_ command: String) async throws -> String {
        try await onThread { try self.call(command) }
    }
}
