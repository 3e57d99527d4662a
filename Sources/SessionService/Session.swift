import Foundation
public import LV2
public import Messaging
import Synchronization

/// The Session Manager's domain: the current pedalboard, the stored ones, and the host behind the
/// bridge kept in step with them.
///
/// The rule is "the host first": an operation that changes the rig asks the bridge, and only what
/// the bridge accepted is recorded and announced, so the state here is what the host plays and a
/// re-sync can put it back exactly. Operations that change the rig run one at a time through
/// `gate` (an actor alone would interleave them at each await on the bridge); reads never wait.
public actor Session {
    let store: SessionStore
    let bridge: BridgeClient
    let events: Publisher
    var catalogue: PluginCatalogue
    var state: SessionState
    var settings: [SessionStore.Setting: JSONValue] = [:]
    /// Files found unreadable at start-up (session and settings; pedalboard files are re-listed live).
    var startupProblems: [PedalboardStore.Problem] = []
    /// The bridge's instance id for each of ours, where it chose a different one.
    var bridgeIDs: [String: String] = [:]
    var lastResync: JSONValue = .null
    let startedAt = ContinuousClock.now
    let gate = SerialGate()
    let persistence: SessionPersistence

    /// Opens the store, restores the last session and, with `autoCreateDefault`, creates and saves a
    /// "Default" pedalboard when none exists. Nothing here needs the bridge.
    public init(
        store: SessionStore,
        bridge: BridgeClient,
        events: Publisher,
        catalogue: PluginCatalogue,
        autoCreateDefault: Bool,
        saveDelay: Duration = .milliseconds(100)
    ) throws(RPCError) {
        self.store = store
        self.bridge = bridge
        self.events = events
        self.catalogue = catalogue
        persistence = SessionPersistence(store: store, delay: saveDelay)
        let (restored, problem) = store.loadSession()
        state = restored ?? SessionState()
        startupProblems = problem.map { [$0] } ?? []
        for setting in SessionStore.Setting.allCases {
            let (value, problem) = store.load(setting)
            if let value { settings[setting] = value }
            if let problem { startupProblems.append(problem) }
        }
        state.assignHostNumbers()
        let empty = state.pedalboard == nil
        if autoCreateDefault && empty && store.pedalboards.list().pedalboards.isEmpty {
            let board = Pedalboard(id: RequestID.make(), name: "Default")
            try store.pedalboards.save(id: board.id, document: board.json)
            state = SessionState(pedalboard: board, storeID: board.id)
            try store.saveSession(state)
            events.publish(
                "pedalboard_created",
                data: ["id": .string(board.id), "name": "Default", "description": ""]
            )
        }
    }

    /// Writes the session when it has changed: until ``shutdown()``, re-syncs the host whenever the
    /// bridge asks for it.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.persistence.run() }
            group.addTask {
                for await reason in self.bridge.resyncRequests { await self.resync(reason: reason) }
            }
            await group.waitForAll()
        }
    }

    /// Writes any pending change now and stops the writer.
    public func shutdown() {
        persistence.finish()
    }

    // MARK: - Helpers shared by the operations

    /// Runs `body` alone among the rig-changing operations, in arrival order.
    func exclusive<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await gate.enter()
        defer { gate.leave() }
        return try await body()
    }

    /// Records that the state changed: the current session is written after a short quiet period.
    func changed() {
        persistence.schedule(state)
    }

    func publish(_ event: String, _ data: JSONValue) {
        events.publish(event, data: data)
    }

    func publishChange(_ change: String) {
        guard let board = state.pedalboard else { return }
        publish(
            "pedalboard_changed",
            ["id": .string(state.storeID ?? board.id), "name": .string(board.name), "change": .string(change)]
        )
    }

    /// The id the bridge knows an instance by.
    func bridgeID(_ instanceID: String) -> String { bridgeIDs[instanceID] ?? instanceID }

    /// A plugin instance on the wire: the stored fields, every control value (defaults filled in) and
    /// the catalogue's port descriptions.
    func describe(_ plugin: PluginInstance) -> JSONValue {
        guard case .object(var members) = plugin.json else { return plugin.json }
        if let info = catalogue.plugin(uri: plugin.uri) {
            var values: [String: JSONValue] = [:]
            for port in info.controlInputs {
                if let value = plugin.parameters[port.symbol] ?? port.defaultValue {
                    values[port.symbol] = .double(value)
                }
            }
            members["parameters"] = .object(values)
            members["ports"] = info.portGroups
            members["available_parameters"] = info.availableParameters
        }
        members["bypassed"] = .bool(!plugin.enabled)
        return .object(members)
    }

    /// The current pedalboard on the wire, instances described in full.
    func describeCurrent() -> JSONValue {
        guard let board = state.pedalboard, case .object(var members) = board.json else { return .null }
        members["plugins"] = .array(board.plugins.map(describe))
        members["store_id"] = state.storeID.map { .string($0) } ?? .null
        return .object(members)
    }

    /// The JACK name of a wire's end: `system:<port>` or `effect_<host number>:<symbol>`.
    func jackName(plugin: String, port: String) throws(RPCError) -> String {
        if plugin == Connection.system { return "system:\(port)" }
        let instance = try state.instance(plugin)
        guard let number = instance.hostNumber else {
            throw RPCError(.bridgeError, "Instance '\(plugin)' has no host instance number")
        }
        return "effect_\(number):\(port)"
    }

    /// True when a bridge failure came from a bridge that is up and answered (it refused), rather
    /// than from one that is gone.
    var bridgeAnswers: Bool { bridge.status.bridgeConnected }
}

/// The debounced writer of `session/current.json`: the latest state is written once changes
/// pause for `delay`, and at shutdown.
final class SessionPersistence: Sendable {
    private let store: SessionStore
    private let delay: Duration
    private let pending = Mutex<SessionState?>(nil)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(store: SessionStore, delay: Duration) {
        self.store = store
        self.delay = delay
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func schedule(_ state: SessionState) {
        pending.withLock { $0 = state }
        wake.yield()
    }

    /// Writes what is pending; returns the error of a failed write (the state stays pending).
    @discardableResult
    func flush() -> RPCError? {
        guard let state = pending.withLock({ $0.take() }) else { return nil }
        do {
            try store.saveSession(state)
            return nil
        } catch {
            pending.withLock { if $0 == nil { $0 = state } }
            return error
        }
    }

    func run() async {
        for await _ in wakeups {
            try? await Task.sleep(for: delay)
            flush()
        }
        flush()
    }

    func finish() {
        wake.finish()
        flush()
    }
}
