public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A request as Marlise clients send it:
/// `{"method", "params", "source_service", "request_id", "timestamp"}`, one JSON object per frame.
public struct RequestEnvelope: Sendable, Equatable {
    public var method: String
    /// Keyword arguments; an absent `params` reads as empty, as in the reference.
    public var params: [String: JSONValue]
    public var sourceService: String?
    /// Echoed in the reply whatever its JSON type; `null` when the client sent none.
    public var requestID: JSONValue
    public var timestamp: String?

    public init(
        method: String,
        params: [String: JSONValue] = [:],
        sourceService: String? = nil,
        requestID: JSONValue = .string(RequestID.make()),
        timestamp: String? = Timestamp.now()
    ) {
        self.method = method
        self.params = params
        self.sourceService = sourceService
        self.requestID = requestID
        self.timestamp = timestamp
    }

    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "method": .string(method), "params": .object(params), "request_id": requestID,
        ]
        if let sourceService { members["source_service"] = .string(sourceService) }
        if let timestamp { members["timestamp"] = .string(timestamp) }
        return .object(members)
    }

    public func encoded() -> Data { json.serialized() }

    /// Decodes one request frame. The error says what is wrong with it, and carries the
    /// `request_id` when one could be read, so even a refusal is matched to its request.
    public static func decode(_ frame: Data) -> Result<RequestEnvelope, RequestDecodingError> {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: frame)
        } catch {
            return .failure(
                RequestDecodingError(
                    RPCError(.parseError, "Invalid JSON request: \(error)", underlying: error),
                    requestID: .null
                )
            )
        }
        guard case .object(let members) = value else {
            return .failure(
                RequestDecodingError(
                    RPCError(.invalidRequest, "Request must be a JSON object, not \(value.typeName)"),
                    requestID: .null
                )
            )
        }
        let requestID = members["request_id"] ?? .null
        guard let methodValue = members["method"], !methodValue.isNull else {
            return .failure(
                RequestDecodingError(RPCError(.invalidRequest, "Request has no 'method'"), requestID: requestID)
            )
        }
        guard case .string(let method) = methodValue else {
            return .failure(
                RequestDecodingError(
                    RPCError(.invalidRequest, "'method' must be a string, not \(methodValue.typeName)"),
                    requestID: requestID
                )
            )
        }
        let params: [String: JSONValue]
        switch members["params"] {
        case nil: params = [:]
        case .object(let object)?: params = object
        case let other?:
            return .failure(
                RequestDecodingError(
                    RPCError(.invalidParameters, "'params' must be an object, not \(other.typeName)"),
                    requestID: requestID
                )
            )
        }
        return .success(
            RequestEnvelope(
                method: method,
                params: params,
                sourceService: members["source_service"]?.stringValue,
                requestID: requestID,
                timestamp: members["timestamp"]?.stringValue
            )
        )
    }
}

/// Request ids in the reference's form, a lower-case UUID version 4.
public enum RequestID {
    /// A random id from the system generator: `getrandom`, where Foundation's `UUID` opens
    /// `/dev/urandom` on every call.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = withUnsafeBytes(of: (generator.next() as UInt64, generator.next() as UInt64)) { Array($0) }
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // RFC 4122 variant
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A request frame that could not be accepted, with the `request_id` to echo in the refusal.
public struct RequestDecodingError: Error, Sendable {
    public var error: RPCError
    public var requestID: JSONValue

    public init(_ error: RPCError, requestID: JSONValue) {
        self.error = error
        self.requestID = requestID
    }
}

/// A reply: `{"request_id", "result", "timestamp"}` on success, `{"request_id", "error", "code",
/// "timestamp"}` on an envelope-level failure (the reference has no `code`; old clients ignore it).
public struct ReplyEnvelope: Sendable, Equatable {
    public var requestID: JSONValue
    public var outcome: Result<JSONValue, RPCError>
    public var timestamp: String

    public init(requestID: JSONValue, outcome: Result<JSONValue, RPCError>, timestamp: String = Timestamp.now()) {
        self.requestID = requestID
        self.outcome = outcome
        self.timestamp = timestamp
    }

    public var json: JSONValue {
        switch outcome {
        case .success(let result):
            return ["request_id": requestID, "result": result, "timestamp": .string(timestamp)]
        case .failure(let error):
            return [
                "request_id": requestID, "error": .string(error.message), "code": .string(error.code.rawValue),
                "timestamp": .string(timestamp),
            ]
        }
    }

    public func encoded() -> Data { json.serialized() }

    /// Decodes a reply frame; a frame that is not a reply is an error with code `PARSE_ERROR`
    /// or `INVALID_REQUEST`.
    public static func decode(_ frame: Data) throws(RPCError) -> ReplyEnvelope {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: frame)
        } catch {
            throw RPCError(.parseError, "Invalid JSON reply: \(error)", underlying: error)
        }
        guard case .object(let members) = value else { throw RPCError(.invalidRequest, "Reply is not a JSON object") }
        let timestamp = members["timestamp"]?.stringValue ?? ""
        let requestID = members["request_id"] ?? .null
        if let message = members["error"], !message.isNull {
            let code = members["code"]?.stringValue.map(ErrorCode.init(rawValue:)) ?? .internalError
            let text = message.stringValue ?? message.jsonText
            return ReplyEnvelope(requestID: requestID, outcome: .failure(RPCError(code, text)), timestamp: timestamp)
        }
        guard let result = members["result"] else {
            throw RPCError(.invalidRequest, "Reply has neither result nor error")
        }
        return ReplyEnvelope(requestID: requestID, outcome: .success(result), timestamp: timestamp)
    }
}

/// A published event: two frames, `[event_type, {"event_type", "data", "source_service", "timestamp"}]`.
public struct EventEnvelope: Sendable, Equatable {
    public var eventType: String
    public var data: JSONValue
    public var sourceService: String
    public var timestamp: String

    public init(eventType: String, data: JSONValue, sourceService: String, timestamp: String = Timestamp.now()) {
        self.eventType = eventType
        self.data = data
        self.sourceService = sourceService
        self.timestamp = timestamp
    }

    public var frames: [Data] {
        let body: JSONValue = [
            "event_type": .string(eventType), "data": data, "source_service": .string(sourceService),
            "timestamp": .string(timestamp),
        ]
        return [Data(eventType.utf8), body.serialized()]
    }

    /// Decodes the two frames of an event; `nil` for anything else.
    public init?(frames: [Data]) {
        guard frames.count == 2, let topic = String(data: frames[0], encoding: .utf8),
            let body = try? JSONValue(parsing: frames[1]), body["event_type"]?.stringValue == topic
        else { return nil }
        self.init(
            eventType: topic,
            data: body["data"] ?? .null,
            sourceService: body["source_service"]?.stringValue ?? "",
            timestamp: body["timestamp"]?.stringValue ?? ""
        )
    }
}

/// Timestamps as the reference writes them: Python's `datetime.now().isoformat()`, local time
/// without a zone, microseconds left out when they are zero.
public enum Timestamp {
    public static func now() -> String {
        var now = timeval()
        gettimeofday(&now, nil)
        var seconds = now.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var text =
            "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if now.tv_usec != 0 { text += ".\(pad(Int32(now.tv_usec), 6))" }
        return text
    }
}
