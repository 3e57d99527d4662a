import Foundation
import LV2
import Messaging
import SessionService
import TestSupport
import Testing

/// A session service started in-process on free ports, over a fresh data folder, with the bridge's
/// three endpoints pointing at ports where nothing listens (the bridge and host are other issues'
/// work; a mock of our own making would prove nothing about the audio path).
struct SessionHarness {
    /// One lilv scan shared by every test: the real plugins of swh-lv2 and mda-lv2.
    static let catalogue = PluginCatalogue.load()

    static let amp = "http://plugin.org.uk/swh-plugins/amp"
    static let overdrive = "http://drobilla.net/plugins/mda/Overdrive"
    static let leslie = "http://drobilla.net/plugins/mda/Leslie"

    let server: SessionServer
    let client: RPCClient
    let data: String

    /// A data folder of its own under the temporary directory.
    static func makeDataDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "session-\(getpid())-\(UUID().uuidString.prefix(8))"
        ).path
    }

    /// A configuration with every bridge endpoint on a port nobody listens to.
    static func configuration(
        data: String,
        autoCreateDefault: Bool = false,
        recording: RecordingSettings = RecordingSettings()
    ) throws -> SessionConfiguration {
        var configuration = SessionConfiguration()
        configuration.recording = recording
        configuration.dataDirectory = data
        configuration.bridgeEndpoint = "tcp://127.0.0.1:\(try freePort())"
        configuration.bridgeHealthEndpoint = "tcp://127.0.0.1:\(try freePort())"
        configuration.bridgeEventsEndpoint = "tcp://127.0.0.1:\(try freePort())"
        configuration.autoCreateDefault = autoCreateDefault
        return configuration
    }

    /// `plugins`, when given, is the catalogue instead of the shared scan.
    static func start(
        data: String? = nil,
        autoCreateDefault: Bool = false,
        plugins: PluginCatalogue? = nil,
        recording: RecordingSettings = RecordingSettings()
    ) async throws -> SessionHarness {
        let data = data ?? makeDataDirectory()
        let server = try await SessionServer.start(
            try configuration(data: data, autoCreateDefault: autoCreateDefault, recording: recording),
            catalogue: plugins ?? catalogue,
            rpcEndpoint: "tcp://127.0.0.1:*",
            pubEndpoint: "tcp://127.0.0.1:*"
        )
        let client = RPCClient(RPCClientConfiguration(endpoint: server.rpc.endpoint, timeout: .seconds(10)))
        return SessionHarness(server: server, client: client, data: data)
    }

    func stop(removingData: Bool = true) async {
        await client.shutdown()
        await server.shutdown()
        if removingData { try? FileManager.default.removeItem(atPath: data) }
    }

    /// Calls `method` and returns its result, failing the test unless `success` is true.
    @discardableResult
    func call(
        _ method: String,
        _ params: [String: JSONValue] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> JSONValue
    {
        let result = try await client.call(method, params: params)
        #expect(result["success"] == true, "\(method): \(result.jsonText.prefix(400))", sourceLocation: sourceLocation)
        return result
    }

    /// Calls `method` expecting a result-level failure with `code`; returns the result.
    @discardableResult
    /// Knob turns of the swh amp `instance` that its ports refuse, before anything reaches the bridge:
    /// out of range either way, a symbol it does not have, and an output.
    func refusesAmpTurnsOutOfItsPorts(
        _ instance: JSONValue = "amp",
        sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws
    {
        for (key, symbol, value): (String, JSONValue, JSONValue) in [
            ("parameter", "gain", 70.5), ("port", "gain", -71), ("parameter", "nosuch", 1), ("parameter", "output", 1),
        ] {
            try await fails(
                "set_parameter",
                ["instance_id": instance, key: symbol, "value": value],
                .invalidParameters,
                sourceLocation: sourceLocation
            )
        }
    }

    @discardableResult
    func fails(
        _ method: String,
        _ params: [String: JSONValue] = [:],
        _ code: ErrorCode,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let result = try await client.call(method, params: params)
        #expect(result["success"] == false, "\(method) should fail", sourceLocation: sourceLocation)
        #expect(
            result["code"] == .string(code.rawValue),
            "\(method): \(result.jsonText.prefix(400))",
            sourceLocation: sourceLocation
        )
        #expect(result["error"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        return result
    }

    var pedalboardsFolder: String { "\(data)/pedalboards" }

    func pedalboardFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: pedalboardsFolder).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The swh amp as a restored instance `amp`, at `gain`.
    static func ampInstance(gain: Double, hostNumber: Int) -> PluginInstance {
        PluginInstance(
            instanceID: "amp",
            uri: amp,
            name: "Simple amplifier",
            parameters: ["gain": gain],
            hostNumber: hostNumber
        )
    }

    /// A session started on a data folder where a previous run left `plugins` (see ``seedSession``).
    static func start(restoring plugins: [PluginInstance]) async throws -> SessionHarness {
        let data = makeDataDirectory()
        try seedSession(data: data, plugins: plugins)
        return try await start(data: data)
    }

    /// Writes a session file as a previous run would have left it: `plugins` on a saved pedalboard.
    static func seedSession(data: String, plugins: [PluginInstance], connections: [Connection] = []) throws {
        var board = Pedalboard(id: "seeded-board", name: "Seeded")
        board.plugins = plugins
        board.connections = connections
        let state = SessionState(pedalboard: board, storeID: "seeded-board")
        let store = try SessionStore(dataDirectory: data)
        try store.pedalboards.save(id: "seeded-board", document: board.json, catalogue: catalogue)
        try store.saveSession(state)
    }
}
