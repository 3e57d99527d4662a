import Foundation
import Messaging

/// The operator's paths on top of ``HealthRoutes``: `GET /` (the page), `GET /history` (what it
/// draws first), `GET /events` (what it follows) and `POST /services/<name>/<action>`.
enum OperatorRoutes {
    enum Outcome {
        case answer(HealthAnswer)
        /// Open a server-sent event stream on this connection.
        case stream
    }

    static func answer(
        _ request: HTTPRequestHead?,
        peer: String,
        board: HealthBoard,
        history: HealthHistory?,
        actions: OperatorActions?
    ) -> Outcome {
        guard let request, let history else {
            return .answer(HealthRoutes.answer(request, board: board, latest: history?.latest))
        }
        if request.method == "POST", request.path.hasPrefix("/services/") {
            return .answer(act(request, peer: peer, board: board, actions: actions))
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return .answer(HealthRoutes.answer(request, board: board))
        }
        var answer: HealthAnswer
        switch request.path {
        case "/", "/index.html":
            answer = HealthAnswer(200, text: OperatorPage.html)
            answer.contentType = "text/html; charset=utf-8"
            answer.headers = [
                ("Cache-Control", "no-cache"),
                // Nothing but what the supervisor serves, even if a service's message held markup.
                (
                    "Content-Security-Policy",
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
                ),
            ]
        case "/favicon.ico":
            // Every browser asks; a 404 would be an error in the operator's console.
            answer = HealthAnswer(204, text: "")
        case "/history":
            answer = HealthAnswer(200, json: history.json)
        case "/events":
            if request.method == "GET" { return .stream }
            answer = HealthAnswer(200, text: "")
            answer.contentType = "text/event-stream"
        default:
            return .answer(HealthRoutes.answer(request, board: board, latest: history.latest))
        }
        answer.omitBody = request.method == "HEAD"
        return .answer(answer)
    }

    private static func act(
        _ request: HTTPRequestHead,
        peer: String,
        board: HealthBoard,
        actions: OperatorActions?
    ) -> HealthAnswer {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false)
        guard let actions, parts.count == 4, let action = ServiceAction(rawValue: String(parts[3])) else {
            return HealthAnswer(404, json: ["error": "no such action"])
        }
        let name = String(parts[2])
        let decision = ActionPolicy.decide(
            peer: peer,
            token: actions.token,
            presented: request.bearer,
            marked: request.actionMarked
        )
        if case .forbidden(let reason) = decision { return HealthAnswer(403, json: ["error": .string(reason)]) }
        guard board.report.services.contains(where: { $0.name == name }) else {
            return HealthAnswer(404, json: ["error": .string("no service named '\(name)'")])
        }
        let perform = actions.perform
        Task { try? await perform(name, action) }
        return HealthAnswer(202, json: ["accepted": .string("\(action.rawValue) \(name)")])
    }
}
