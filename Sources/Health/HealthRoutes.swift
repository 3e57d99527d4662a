import Foundation
import Messaging

/// A request's head as far as the health endpoint needs it; nil when it is not HTTP/1.x.
struct HTTPRequestHead {
    var method: String
    /// The target's path, without its query.
    var path: String
    var keepAlive: Bool
    /// Whether a body follows (never read: the connection is closed after the answer).
    var hasBody: Bool
    /// `X-Marlise-Action` was sent: see ``ActionPolicy``.
    var actionMarked = false
    /// The bearer token of `Authorization`, as sent.
    var bearer: String?

    init?(_ head: [UInt8]) {
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let parts = (lines.first ?? "").split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/"),
            parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0"
        else { return nil }
        method = String(parts[0])
        path = String(parts[1].prefix { $0 != "?" })
        var connection = ""
        hasBody = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let raw = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let value = raw.lowercased()
            if name == "x-marlise-action" { actionMarked = true }
            if name == "authorization", value.hasPrefix("bearer ") { bearer = String(raw.dropFirst(7)) }
            if name == "connection" { connection = value }
            if name == "transfer-encoding" || (name == "content-length" && value != "0") { hasBody = true }
        }
        keepAlive = parts[2] == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
    }
}

/// One answer, written whole.
struct HealthAnswer {
    var code: Int
    var contentType: String
    var body: Data
    var headers: [(String, String)] = []
    /// A HEAD gets the GET's status and headers with no body.
    var omitBody = false

    init(_ code: Int, text: String, headers: [(String, String)] = []) {
        self.code = code
        contentType = "text/plain; charset=utf-8"
        body = Data(text.utf8)
        self.headers = headers
    }

    init(_ code: Int, json: JSONValue) {
        self.code = code
        contentType = "application/json"
        var body = json.serialized(sortedKeys: true)
        body.append(0x0A)
        self.body = body
    }

    func bytes(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(code) \(Self.phrase(code))\r\nContent-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (omitBody ? [] : Array(body))
    }

    static func phrase(_ code: Int) -> String {
        switch code {
        case 200: "OK"
        case 202: "Accepted"
        case 204: "No Content"
        case 403: "Forbidden"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 431: "Request Header Fields Too Large"
        default: "Service Unavailable"
        }
    }
}

/// The health paths (the operator's page adds its own, see ``OperatorRoutes``); anything else is
/// 404, any method but GET and HEAD is 405.
enum HealthRoutes {
    static func answer(_ request: HTTPRequestHead?, board: HealthBoard, latest: HistorySample? = nil) -> HealthAnswer {
        guard let request else { return HealthAnswer(400, text: "not an HTTP/1.x request\n") }
        guard request.method == "GET" || request.method == "HEAD" else {
            return HealthAnswer(405, text: "only GET and HEAD\n", headers: [("Allow", "GET, HEAD")])
        }
        var answer = route(request.path, board.report, latest)
        answer.omitBody = request.method == "HEAD"
        return answer
    }

    private static func route(_ path: String, _ report: HealthReport, _ latest: HistorySample?) -> HealthAnswer {
        if path == "/health" || path == "/health/" {
            return HealthAnswer(report.status == .healthy ? 200 : 503, json: report.json)
        }
        if path.hasPrefix("/health/") {
            let name = String(path.dropFirst("/health/".count))
            guard let service = report.services.first(where: { $0.name == name }) else {
                return HealthAnswer(404, json: ["error": .string("no service named '\(name)'")])
            }
            return HealthAnswer(service.state == .healthy ? 200 : 503, json: service.json)
        }
        if path == "/metrics" {
            var answer = HealthAnswer(200, text: PrometheusText.render(report, latest: latest))
            answer.contentType = "text/plain; version=0.0.4; charset=utf-8"
            return answer
        }
        return HealthAnswer(404, text: "not found: try /health, /health/<service> or /metrics\n")
    }
}
