import Foundation
import Messaging
import Testing

/// The envelope codec on requests, replies and errors as Marlise's session manager writes them.
@Suite struct EnvelopeTests {
    @Test func decodesTheReferenceRequest() throws {
        let frame = Data(
            text: """
                {"method": "load_plugin", "params": {"uri": "http://plugin.org.uk/swh-plugins/amp"}, \
                "source_service": "client_interface", "request_id": "9d6c2e1a-0f4b-4c1e-9a57-3c2d1e0f9b8a", \
                "timestamp": "2026-11-22T23:40:39.419479"}
                """
        )
        let request = try RequestEnvelope.decode(frame).get()
        #expect(request.method == "load_plugin")
        #expect(request.params == ["uri": "http://plugin.org.uk/swh-plugins/amp"])
        #expect(request.sourceService == "client_interface")
        #expect(request.requestID == "9d6c2e1a-0f4b-4c1e-9a57-3c2d1e0f9b8a")
        #expect(request.timestamp == "2026-11-22T23:40:39.419479")
        #expect(try RequestEnvelope.decode(request.encoded()).get() == request)
    }

    @Test func absentParamsReadAsEmptyAndRequestIDAsNull() throws {
        let request = try RequestEnvelope.decode(Data(text: #"{"method":"health_check"}"#)).get()
        #expect(request.params.isEmpty)
        #expect(request.requestID == .null)
    }

    @Test func refusalsCarryCodeAndRequestID() {
        func failure(_ text: String) -> RequestDecodingError? {
            if case .failure(let error) = RequestEnvelope.decode(Data(text: text)) { error } else { nil }
        }
        #expect(failure(#"{"params":{}}"#)?.error.code == .invalidRequest)
        #expect(failure(#"{"method":["x"],"request_id":7}"#)?.error.code == .invalidRequest)
        #expect(failure(#"{"method":["x"],"request_id":7}"#)?.requestID == 7)
        #expect(failure(#"{"method":"x","params":[1],"request_id":"r"}"#)?.error.code == .invalidParameters)
        #expect(failure(#"{"method":"x","params":null}"#)?.error.code == .invalidParameters)
        #expect(failure(#"[1,2]"#)?.error.code == .invalidRequest)
        #expect(failure(#"not json"#)?.error.code == .parseError)
    }

    @Test func aParseFailureKeepsTheParsersError() {
        let error = #expect(throws: RPCError.self) { try ReplyEnvelope.decode(Data(text: "not json")) }
        #expect(error?.code == .parseError)
        #expect(error?.underlying is JSONParseError)
        // The cause is for the log: errors that read the same are equal with or without one.
        #expect(RPCError(.parseError, "x", underlying: error) == RPCError(.parseError, "x"))
    }

    @Test func successReplyHasTheReferenceKeys() throws {
        let reply = ReplyEnvelope(requestID: "abc", outcome: .success(["success": true]))
        let json = try JSONValue(parsing: reply.encoded())
        #expect(Set(json.objectValue?.keys ?? [:].keys) == ["request_id", "result", "timestamp"])
        #expect(json["request_id"] == "abc")
        #expect(json["result"] == ["success": true])
    }

    @Test func errorReplyAddsACodeOldClientsIgnore() throws {
        let reply = ReplyEnvelope(requestID: nil, outcome: .failure(RPCError(.methodNotFound, "Method 'x' not found")))
        let json = try JSONValue(parsing: reply.encoded())
        #expect(Set(json.objectValue?.keys ?? [:].keys) == ["request_id", "error", "code", "timestamp"])
        #expect(json["error"] == "Method 'x' not found")
        #expect(json["code"] == "METHOD_NOT_FOUND")
        #expect(json["request_id"] == .null)
        #expect(try ReplyEnvelope.decode(reply.encoded()) == reply)
    }

    @Test func decodesAReferenceErrorReplyWithoutCode() throws {
        let reply = try ReplyEnvelope.decode(
            Data(text: #"{"request_id": "r1", "error": "Method 'x' not found", "timestamp": "2026-11-22T23:40:39"}"#)
        )
        #expect(reply.outcome == .failure(RPCError(.internalError, "Method 'x' not found")))
        #expect(reply.timestamp == "2026-11-22T23:40:39")
    }

    @Test func eventIsTwoFramesTopicThenBody() throws {
        let event = EventEnvelope(
            eventType: "pedalboard_created",
            data: ["id": "p1", "name": "Default", "description": ""],
            sourceService: "session_manager",
            timestamp: "2026-11-22T23:40:39.419479"
        )
        let frames = event.frames
        #expect(frames.count == 2)
        #expect(String(decoding: frames[0], as: UTF8.self) == "pedalboard_created")
        let body = try JSONValue(parsing: frames[1])
        #expect(body["event_type"] == "pedalboard_created")
        #expect(body["source_service"] == "session_manager")
        #expect(body["data"]?["name"] == "Default")
        #expect(EventEnvelope(frames: frames) == event)
        #expect(EventEnvelope(frames: [frames[0]]) == nil)
    }

    @Test func timestampLooksLikePythonIsoformat() {
        let stamp = Timestamp.now()
        let pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/
        #expect(stamp.wholeMatch(of: pattern) != nil, "\(stamp)")
    }

    @Test func typedParameterAccess() throws {
        let request = RequestEnvelope(method: "m", params: ["s": "x", "i": 3, "d": 2.5, "b": true, "n": nil])
        #expect(try request.string("s") == "x")
        #expect(try request.int("i") == 3)
        #expect(try request.double("i") == 3)
        #expect(try request.double("d") == 2.5)
        #expect(try request.bool("b"))
        #expect(try request.optionalString("n") == nil)
        #expect(throws: RPCError(.invalidParameters, "Missing required parameter 'missing'")) {
            try request.string("missing")
        }
        #expect(throws: RPCError(.invalidParameters, "Parameter 's' must be an integer, not string")) {
            try request.int("s")
        }
    }
}
