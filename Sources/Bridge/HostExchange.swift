import Messaging
import ModHostWire

/// A request that one mod-host command answers (`set_parameter`, `get_parameter`, raw and structured
/// commands): the command, and what its reply becomes. The request socket's thread writes the
/// command and goes on serving; the reply, when mod-host sends it, is turned into the answer on the
/// thread that reads the connection's replies (the request socket's own, in the bridge). So requests from many callers keep the host's connection busy
/// instead of waiting for each other, and each is still answered only after the host applied it.
struct HostExchange: Sendable {
    typealias Answer = @Sendable (ModHostReply) throws(BridgeError) -> (JSONValue, PendingEvent?)

    let command: ModHostCommand
    let answer: Answer
}

extension Bridge {
    /// The exchange that answers `object`, or `nil` when one mod-host command does not.
    func hostExchange(_ object: [String: JSONValue]) throws(BridgeError) -> HostExchange? {
        switch object["action"]?.stringValue {
        case "plugin":
            guard let method = object["method"]?.stringValue else { return nil }
            let fields = RequestFields(object, method: method, context: Self.pluginContext)
            switch method {
            case "set_parameter": return try setParameter(fields)
            case "get_parameter": return try getParameter(fields)
            default: return nil
            }
        case "audio", "health":
            return nil
        default:
            if let command = object["command"] { return try raw(command) }
            if let name = object["name"] { return try structured(name, object["args"]) }
            return nil
        }
    }

    /// Sends the exchange's command and answers `respond` when the reply comes, from its thread.
    func perform(_ exchange: HostExchange, respond: @escaping FrameServer.Responder) {
        let events = events
        link.submit(exchange.command) { outcome in
            var answer: JSONValue
            var then: (@Sendable () -> Void)?
            do throws(BridgeError) {
                let (result, event) = try exchange.answer(try outcome.get())
                answer = Self.succeeded(result)
                if let event { then = { events.publish(event.type, event.data) } }
            } catch {
                answer = error.json
            }
            respond(answer.serialized(sortedKeys: true), then)
        }
    }

    /// The exchange awaited, for callers already in a task.
    func perform(_ exchange: HostExchange) async throws(BridgeError) -> (JSONValue, PendingEvent?) {
        try exchange.answer(try await link.send(exchange.command))
    }
}
