import FlyingFox
import Foundation
import Messaging

/// Health for operators over HTTP: `GET /health`, `GET /health/<service>`, `GET /metrics`.
///
/// FlyingFox serves it: no dependencies, seconds to build, and it leaves the process's signal
/// dispositions alone (it writes with `MSG_NOSIGNAL`), where SwiftNIO ignores SIGPIPE process-wide.
public final class HealthHTTPServer: Sendable {
    private let server: HTTPServer

    /// Serves `board` on `host:port` (port 0: any free port, see ``port``).
    public init(host: String = "127.0.0.1", port: UInt16, board: HealthBoard) throws {
        server = HTTPServer(
            address: try .inet(ip4: host, port: port),
            timeout: 5,
            logger: .disabled,
            handler: HealthHandler(board: board)
        )
    }

    /// Listens and serves until ``stop()`` or cancellation; throws if the address cannot be bound.
    public func run() async throws { try await server.run() }

    /// Waits until the socket listens (or ``run()`` failed).
    public func waitUntilListening() async throws { try await server.waitUntilListening(timeout: 5) }

    /// The port listened on, once listening.
    public var port: UInt16? {
        get async {
            guard case .ip4(_, let port) = await server.listeningAddress else { return nil }
            return port
        }
    }

    public func stop() async { await server.stop(timeout: 1) }
}

/// Routes the three paths; anything else is 404, any method but GET and HEAD is 405.
struct HealthHandler: HTTPHandler {
    let board: HealthBoard

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return respond(request, 405, text: "only GET and HEAD\n", headers: [.init("Allow"): "GET, HEAD"])
        }
        let report = board.report
        let path = request.path
        if path == "/health" || path == "/health/" {
            return respond(request, report.status == .healthy ? 200 : 503, json: report.json)
        }
        if path.hasPrefix("/health/") {
            let name = String(path.dropFirst("/health/".count))
            guard let service = report.services.first(where: { $0.name == name }) else {
                return respond(request, 404, json: ["error": .string("no service named '\(name)'")])
            }
            return respond(request, service.state == .healthy ? 200 : 503, json: service.json)
        }
        if path == "/metrics" {
            return respond(
                request,
                200,
                text: PrometheusText.render(report),
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"]
            )
        }
        return respond(request, 404, text: "not found: try /health, /health/<service> or /metrics\n")
    }

    private func respond(_ request: HTTPRequest, _ code: Int, json: Messaging.JSONValue) -> HTTPResponse {
        var body = json.serialized(sortedKeys: true)
        body.append(0x0A)
        return respond(request, code, body: body, headers: [.contentType: "application/json"])
    }

    private func respond(
        _ request: HTTPRequest,
        _ code: Int,
        text: String,
        headers: [HTTPHeader: String] = [:]
    ) -> HTTPResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "text/plain; charset=utf-8" }
        return respond(request, code, body: Data(text.utf8), headers: headers)
    }

    /// A HEAD gets the GET's status and headers with no body.
    private func respond(
        _ request: HTTPRequest,
        _ code: Int,
        body: Data,
        headers: [HTTPHeader: String]
    )
        -> HTTPResponse
    {
        HTTPResponse(
            statusCode: HTTPStatusCode(code, phrase: phrase(code)),
            headers: HTTPHeaders(headers),
            body: request.method == .HEAD ? Data() : body
        )
    }

    private func phrase(_ code: Int) -> String {
        switch code {
        case 200: "OK"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        default: "Service Unavailable"
        }
    }
}
