import Foundation
public import LV2
public import Logging
public import Messaging

/// The session service: RPC on the derived port (5718), events on the next (6718), the
/// ``Session`` behind them and the ``BridgeClient`` in front of the audio side.
public final class SessionServer: Sendable {
    public let rpc: RPCServer
    public let events: Publisher
    public let session: Session
    private let bridge: BridgeClient
    /// Runs the bridge probe, the re-sync loop and the session writer; owned here, ended in shutdown.
    private let background: Task<Void, Never>

    private init(
        rpc: RPCServer,
        events: Publisher,
        session: Session,
        bridge: BridgeClient,
        background: Task<Void, Never>
    ) {
        self.rpc = rpc
        self.events = events
        self.session = session
        self.bridge = bridge
        self.background = background
    }

    /// Opens the store, asks the bridge once (so the first requests see its true state), restores
    /// the session (creating "Default" if configured), and only then binds and serves.
    ///
    /// `catalogue` defaults to the cached or scanned one (or `catalogueSource`'s), read after the
    /// socket is bound; tests pass one they share.
    public static func start(
        _ configuration: SessionConfiguration,
        catalogue: PluginCatalogue? = nil,
        catalogueSource: (@Sendable () -> PluginCatalogue)? = nil,
        rpcEndpoint: String? = nil,
        pubEndpoint: String? = nil,
        logger: Logger = Logger(label: "marlise.session"),
        reportBoard: @escaping @Sendable (_ playing: Bool) -> Void = { _ in }
    ) async throws -> SessionServer {
        let store = try SessionStore(dataDirectory: configuration.dataDirectory)
        let ports = configuration.ports
        // One thread for the RPC socket, the handlers, the actor, the calls to the bridge and the
        // events: a knob turn's work never changes threads (libzmq's own I/O thread aside).
        let loop = LoopThread(name: "session")
        let events = try await Publisher.start(
            endpoint: pubEndpoint ?? ports.pubEndpoint,
            sourceService: "session_manager",
            on: loop
        )
        let bridge = BridgeClient(configuration.bridge, on: loop)
        let session: Session
        do {
            await bridge.probeOnce()
            session = try Session(
                store: store,
                bridge: bridge,
                events: events,
                catalogue: catalogue ?? PluginCatalogue(plugins: []),
                autoCreateDefault: configuration.autoCreateDefault,
                recording: configuration.recording,
                loop: loop
            )
        } catch {
            await bridge.shutdown()
            await events.shutdown()
            throw error
        }
        // Without a given catalogue the session serves at once and reads it in the background;
        // the calls that need it wait for it (SessionServer+Catalogue).
        let build = catalogue == nil ? CatalogueBuild() : CatalogueBuild.finished
        let rpc: RPCServer
        do {
            var rpcConfiguration = RPCServerConfiguration(endpoint: rpcEndpoint ?? ports.rpcEndpoint)
            rpcConfiguration.statistics = session.rpcStatistics
            rpc = try await RPCServer.start(
                rpcConfiguration,
                router: Self.gated(Self.router(session), by: build),
                logger: logger,
                on: loop
            )
        } catch {
            await bridge.shutdown()
            await session.shutdown()
            await events.shutdown()
            throw error
        }
        for problem in await session.storageProblems {
            logger.warning(
                "unreadable file skipped",
                metadata: ["file": "\(problem.file)", "reason": "\(problem.reason)"]
            )
        }
        let background = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await bridge.run() }
                group.addTask { await session.run(reportBoard: reportBoard) }
                if !build.isDone {
                    let cache = Self.catalogueCache(dataDirectory: configuration.dataDirectory)
                    let source: @Sendable () -> StoredCatalogue = {
                        if let catalogueSource { return StoredCatalogue(catalogue: catalogueSource()) }
                        return PluginCatalogue.loadStored(cache: cache)
                    }
                    group.addTask { await Self.buildCatalogue(session, from: source, build: build) }
                }
            }
        }
        logger.info(
            "session service listening",
            metadata: [
                "rpc": "\(rpc.endpoint)", "pub": "\(events.endpoint)", "data": "\(configuration.dataDirectory)",
                "bridge": "\(configuration.bridgeEndpoint)",
            ]
        )
        return SessionServer(rpc: rpc, events: events, session: session, bridge: bridge, background: background)
    }

    /// Stops answering, writes any pending session change, closes every socket.
    public func shutdown() async {
        await rpc.shutdown()
        background.cancel()
        await bridge.shutdown()
        await session.shutdown()
        await background.value
        await events.shutdown()
    }

    /// Every method on its wire name. Application errors are answered inside `result` as
    /// `{"success": false, "error", "code"}`, as the reference does; only an unknown method or a
    /// malformed request gets an envelope `error`.
    static func router(_ session: Session) -> RPCRouter {
        var router = RPCRouter()
        registerHealthAndAudio(&router, session)
        registerPlugins(&router, session)
        registerPedalboards(&router, session)
        registerConnectionsAndSnapshots(&router, session)
        registerSettings(&router, session)
        registerPerformance(&router, session)
        registerRecording(&router, session)
        registerUserFiles(&router, session.store.userFiles)
        registerRefused(&router)
        return router
    }
}

extension RPCRouter {
    /// Registers a method whose errors are answered at the result level, with `success` added.
    mutating func method(_ name: String, _ body: @escaping @Sendable (RequestEnvelope) async throws -> JSONValue) {
        register(name) { request in
            do {
                let result = try await body(request)
                guard case .object(var members) = result else { return ["success": true, "result": result] }
                members["success"] = true
                return .object(members)
            } catch let error as RPCError {
                return ["success": false, "error": .string(error.message), "code": .string(error.code.rawValue)]
            } catch {
                return [
                    "success": false, "error": .string("\(error)"), "code": .string(ErrorCode.internalError.rawValue),
                ]
            }
        }
    }
}

extension RequestEnvelope {
    /// A store, instance or snapshot id: `^[A-Za-z0-9_-]+$`, else `INVALID_PARAMETERS`.
    func id(_ name: String) throws(RPCError) -> String {
        let value = try string(name)
        try PedalboardStore.validate(id: value)
        return value
    }

    /// The first of `names` present, as a string.
    func string(oneOf names: [String]) throws(RPCError) -> String {
        for name in names {
            if let value = try optionalString(name) { return value }
        }
        throw RPCError(.invalidParameters, "Missing required parameter '\(names.joined(separator: "' or '"))'")
    }

    /// A pedalboard named by `id`, `name`, or the `bundlepath` Marlise's web client names it by.
    func pedalboard(idKey: String = "id", nameKey: String = "name") throws(RPCError) -> Session.Reference {
        if let id = try optionalString(idKey) {
            _ = try PedalboardStore.format(of: id)
            return .id(id)
        }
        if let name = try optionalString(nameKey) { return .name(name) }
        if let path = try optionalString("bundlepath") { return .bundlePath(path) }
        throw RPCError(.invalidParameters, "Missing required parameter '\(idKey)', '\(nameKey)' or 'bundlepath'")
    }

    /// A flag given as a boolean, a number (0/1) or a string ("0"/"1", "true"/"false"), as web
    /// forms send them; `nil` when absent.
    func optionalFlag(_ name: String) throws(RPCError) -> Bool? {
        switch params[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case .int(let number)?: return number != 0
        case .string(let text)?:
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off", "": return false
            default: break
            }
        default: break
        }
        throw RPCError(.invalidParameters, "Parameter '\(name)' must be a boolean (true/false or 1/0)")
    }
}
