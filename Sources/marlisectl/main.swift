import ArgumentParser
import Foundation
import Messaging

@main
struct Marlisectl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "marlisectl",
        abstract: "Operate a Marlise stack: call its RPC methods, show its ports.",
        subcommands: [Call.self, Ports.self]
    )
}

/// `marlisectl call health_check` — one request in the Marlise envelope; prints the result as JSON.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Call an RPC method and print its result.")

    @Argument(help: "The method, e.g. health_check.")
    var method: String

    @Argument(help: "Parameters as a JSON object.")
    var params = "{}"

    @Option(help: "Endpoint to call; defaults to the session manager's.")
    var endpoint = ServicePorts(service: "session_manager").rpcEndpoint

    @Option(help: "Seconds to wait for the reply.")
    var timeout = 5.0

    func run() async throws {
        guard case .object(let object) = try JSONValue(parsing: params) else {
            throw ValidationError("params must be a JSON object")
        }
        let client = RPCClient(
            RPCClientConfiguration(endpoint: endpoint, timeout: .milliseconds(Int64(timeout * 1000)))
        )
        defer { Task { await client.shutdown() } }
        do {
            let result = try await client.call(method, params: object)
            print(String(decoding: result.serialized(sortedKeys: true), as: UTF8.self))
        } catch {
            FileHandle.standardError.write(Data("marlisectl: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `marlisectl ports session_manager` — the ports a Marlise service derives from its name.
struct Ports: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the RPC/PUB/SUB ports of a service name.")

    @Argument(help: "The service name, e.g. session_manager.")
    var service: String

    @Option(help: "Base port of the derivation.")
    var base = ServicePorts.defaultBase

    func run() {
        let ports = ServicePorts(service: service, base: base)
        print("rpc \(ports.rpc) pub \(ports.pub) sub \(ports.sub)")
    }
}
