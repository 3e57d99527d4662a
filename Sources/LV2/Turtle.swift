// Every serd call lives in this file: Turtle documents become plain triples, read by Swift code.

import CSerd
import Foundation

/// One node of an RDF graph: a full URI, a blank node (named per document), or a literal.
public struct RDFNode: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case uri, blank, literal }

    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    public static func uri(_ text: String) -> RDFNode { RDFNode(.uri, text) }

    /// A literal's value as a number (`true`/`false` read as 1/0, as lilv reads them).
    public var number: Double? {
        switch text {
        case "true": 1
        case "false": 0
        default: Double(text)
        }
    }

    public var description: String { kind == .uri ? "<\(text)>" : kind == .blank ? "_:\(text)" : "\"\(text)\"" }
}

/// The triples of one or more Turtle documents, with URIs expanded and resolved against each
/// document's location, as lilv sees them.
public struct TurtleGraph: Sendable {
    public struct Triple: Sendable, Hashable {
        public var subject: RDFNode
        public var predicate: RDFNode
        public var object: RDFNode
    }

    public private(set) var triples: [Triple] = []

    public init() {}

    /// The objects of `subject predicate ?`, in document order.
    public func objects(_ subject: RDFNode, _ predicate: String) -> [RDFNode] {
        triples.filter { $0.subject == subject && $0.predicate.text == predicate }.map(\.object)
    }

    /// The first object of `subject predicate ?`.
    public func object(_ subject: RDFNode, _ predicate: String) -> RDFNode? {
        triples.first { $0.subject == subject && $0.predicate.text == predicate }?.object
    }

    /// The subjects of `? predicate object`.
    public func subjects(_ predicate: String, _ object: RDFNode) -> [RDFNode] {
        triples.filter { $0.predicate.text == predicate && $0.object == object }.map(\.subject)
    }

    /// A Turtle file that cannot be read: where and why.
    public struct ReadError: Error, Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var reason: String
        public var description: String { line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)" }
    }

    /// Adds the triples of the Turtle file at `path` (an absolute path). Blank nodes are named apart
    /// per file, so two files never share one by accident.
    public mutating func read(file path: String) throws(ReadError) {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ReadError(file: path, line: 0, reason: "cannot be read")
        }
        let sink = TripleSink(blankPrefix: "f\(documents)-")
        documents += 1
        var base = serd_node_new_file_uri(path, nil, nil, true)
        defer { serd_node_free(&base) }
        sink.env = serd_env_new(&base)
        defer { serd_env_free(sink.env) }
        let handle = Unmanaged.passUnretained(sink).toOpaque()
        guard
            let reader = serd_reader_new(
                SERD_TURTLE,
                handle,
                nil,
                TripleSink.onBase,
                TripleSink.onPrefix,
                TripleSink.onStatement,
                nil
            )
        else { throw ReadError(file: path, line: 0, reason: "serd could not start a reader") }
        defer { serd_reader_free(reader) }
        serd_reader_set_strict(reader, true)
        serd_reader_set_error_sink(reader, TripleSink.onError, handle)
        let status = serd_reader_read_file(reader, path)
        if status != SERD_SUCCESS || sink.errorLine != nil {
            let reason = String(cString: serd_strerror(status))
            throw ReadError(file: path, line: sink.errorLine ?? 0, reason: "not Turtle (\(reason))")
        }
        triples += sink.triples
    }

    private var documents = 0

    /// The `file://` URI serd (and lilv) give the file or folder at `path`, percent-escaped.
    public static func fileURI(_ path: String) -> String {
        var node = serd_node_new_file_uri(path, nil, nil, true)
        defer { serd_node_free(&node) }
        return TripleSink.text(node)
    }
}

/// Collects serd's statements; serd calls back through plain C functions, which find it by handle.
private final class TripleSink {
    var env: OpaquePointer?
    var triples: [TurtleGraph.Triple] = []
    var errorLine: Int?
    let blankPrefix: String

    init(blankPrefix: String) { self.blankPrefix = blankPrefix }

    static func from(_ handle: UnsafeMutableRawPointer?) -> TripleSink {
        Unmanaged<TripleSink>.fromOpaque(handle!).takeUnretainedValue()
    }

    static let onBase: SerdBaseSink = { handle, uri in
        let sink = from(handle)
        return serd_env_set_base_uri(sink.env!, uri)
    }

    static let onPrefix: SerdPrefixSink = { handle, name, uri in
        let sink = from(handle)
        return serd_env_set_prefix(sink.env!, name, uri)
    }

    static let onError: SerdErrorSink = { handle, error in
        let sink = from(handle)
        sink.errorLine = Int(error.pointee.line)
        return SERD_SUCCESS
    }

    static let onStatement: SerdStatementSink = { handle, _, _, subject, predicate, object, _, _ in
        let sink = from(handle)
        guard let subject = sink.node(subject), let predicate = sink.node(predicate), let object = sink.node(object)
        else { return SERD_ERR_BAD_SYNTAX }
        sink.triples.append(TurtleGraph.Triple(subject: subject, predicate: predicate, object: object))
        return SERD_SUCCESS
    }

    /// A node with its URI expanded (CURIE) or resolved (relative); `nil` for an unknown prefix.
    func node(_ pointer: UnsafePointer<SerdNode>?) -> RDFNode? {
        guard let pointer else { return nil }
        let text = Self.text(pointer.pointee)
        switch pointer.pointee.type {
        case SERD_LITERAL:
            return RDFNode(.literal, text)
        case SERD_BLANK:
            return RDFNode(.blank, blankPrefix + text)
        case SERD_URI, SERD_CURIE:
            var expanded = serd_env_expand_node(env, pointer)
            defer { serd_node_free(&expanded) }
            guard expanded.buf != nil else { return nil }
            return RDFNode(.uri, Self.text(expanded))
        default:
            return nil
        }
    }

    static func text(_ node: SerdNode) -> String {
        guard let buffer = node.buf else { return "" }
        return String(decoding: UnsafeBufferPointer(start: buffer, count: node.n_bytes), as: UTF8.self)
    }
}
