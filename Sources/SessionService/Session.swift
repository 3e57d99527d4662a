import Foundation
public import LV2
import Locking
public import Messaging

/// The Session Manager's domain: the current pedalboard, the stored ones, and the host behind the
/// bridge kept in step with them.
///
/// The rule is "the host first": an operation that changes the rig asks the bridge, and only what
/// the bridge accepted is recorded and announced, so the state here is what the host plays and a
/// re-sync can put it back exactly. Operations that change the rig run one at a time through
/// `gate` (an actor alone would interleave them at each await on the bridge); reads never wait.
public actor Session {
    /// The session service's version, as `health_check` reports it.
    public static let version = "0.5.0"

    let store: SessionStore
    let bridge: BridgeClient
    let events: Publisher
    var catalogue: IndexedCatalogue
    var state: SessionState
    var settings: [SessionStore.Setting: JSONValue] = [:]
    /// Files found unreadable at start-up (session and settings; pedalboard files are re-listed live).
    var startupProblems: [PedalboardStore.Problem] = []
    /// Pedalboard files that are not pedalboards, as the last listing found them.
    var pedalboardProblems: [PedalboardStore.Problem] = []
    /// The bridge's instance id for each of ours, where it chose a different one.
    var bridgeIDs: [String: String] = [:]
    /// The ports the host meters, in the order it was asked (its monitor index), their last
    /// readings, and when each was last announced.
    var audioMonitors: [String] = []
    var audioLevels: [Int: Double] = [:]
    var levelAnnounced: [Int: ContinuousClock.Instant] = [:]
    var lastResync: JSONValue = .null {
        didSet { facts.withLock { $0.lastResync = lastResync } }
    }
    /// What `health_check` reports besides the bridge, kept where it can be read without entering
    /// the actor: health is answered on the RPC socket's thread, with no hop.
    let facts = Locked(HealthFacts())
    let startedAt = ContinuousClock.now
    /// The RPC server's request counts and latencies, reported by `health_check` as `rpc` (the
    /// server records into these: ``SessionServer`` names them in its configuration).
    public nonisolated let rpcStatistics = RPCStatistics()
    let gate = SerialGate()
    /// The thread this actor runs on: the session's RPC socket, its calls to the bridge and its events
    /// are served there too, so a knob turn goes from request to reply without a thread hop.
    let loop: LoopThread
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    /// Knob turns in flight and waiting, one lane per parameter (``setParameter(_:symbol:value:)``).
    var lanes = ParameterLanes<LaneCaller>()
    /// `parameter_changed` at most every 50 ms per parameter (≤ 20 a second), the latest always.
    var parameterAnnouncements = LatestPerInterval<ParameterLanes<LaneCaller>.Key>(interval: .milliseconds(50))
    var heldParameterEvents: [ParameterLanes<LaneCaller>.Key: JSONValue] = [:]
    let persistence: SessionPersistence
    /// The board's output to a WAV file and back (`start_recording` and friends).
    let recorder: Recorder

    /// Opens the store, restores the last session and, with `autoCreateDefault`, creates and saves a
    /// "Default" pedalboard when none exists. Nothing here needs the bridge.
    public init(
        store: SessionStore,
        bridge: BridgeClient,
        events: Publisher,
        catalogue: PluginCatalogue,
        autoCreateDefault: Bool,
        saveDelay: Duration = .milliseconds(100),
        recording: RecordingSettings = RecordingSettings(),
        loop: LoopThread = LoopThread(name: "session")
    ) throws(RPCError) {
        self.loop = loop
        self.store = store
        self.bridge = bridge
        self.events = events
        recorder = Recorder(dataDirectory: store.dataDirectory, settings: recording) { [events] event, data in
            events.publish(event, data: data)
        }
        self.catalogue = IndexedCatalogue(catalogue)
        let (restored, epoch, problem) = store.loadSession()
        persistence = SessionPersistence(store: store, delay: saveDelay, epoch: epoch)
        state = restored ?? SessionState()
        startupProblems = problem.map { [$0] } ?? []
        for setting in SessionStore.Setting.allCases {
            let (value, problem) = store.load(setting)
            if let value { settings[setting] = value }
            if let problem { startupProblems.append(problem) }
        }
        state.assignHostNumbers()
        let listing = store.pedalboards.list()
        pedalboardProblems = listing.problems
        let problems = (startupProblems + listing.problems).map { "\($0.file): \($0.reason)" }
        let count = state.plugins.count
        facts.withLock {
            $0.problems = problems
            $0.activePlugins = count
        }
        let empty = state.pedalboard == nil
        if autoCreateDefault && empty && listing.pedalboards.isEmpty {
            let board = Pedalboard(id: store.pedalboards.newBundleID(title: "Default"), name: "Default")
            try store.pedalboards.save(id: board.id, document: board.json, catalogue: catalogue)
            state = SessionState(pedalboard: board, storeID: board.id)
            try persistence.write(state)
            events.publish(
                "pedalboard_created",
                data: ["id": .string(board.id), "name": "Default", "description": ""]
            )
        }
    }

    /// Until the bridge client shuts down, re-syncs the host whenever it asks for it, and tells
    /// `reportBoard` after each re-sync whether the whole pedalboard is back in the host.
    /// Follows what the host does by itself (MIDI, meters, transport) meanwhile.
    public func run(reportBoard: @Sendable (_ playing: Bool) -> Void = { _ in }) async {
        async let following: Void = followHost()
        for await reason in bridge.resyncRequests { reportBoard(await resync(reason: reason)) }
        await following
    }

    /// Writes any pending change now and stops the writer.
    public func shutdown() {
        persistence.finish()
        recorder.shutdown()
    }

    /// Every file found unreadable, for the log at start-up.
    public var storageProblems: [PedalboardStore.Problem] { startupProblems + pedalboardProblems }

    // MARK: - Helpers shared by the operations

    /// Runs `body` alone among the rig-changing operations, in arrival order.
    func exclusive<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        if !gate.tryEnter() { await gate.enter() }
        defer { gate.leave() }
        return try await body()
    }

    /// Records that the state changed: the current session is written before the caller replies.
    func changed() {
        persistence.record(state)
        let count = state.plugins.count
        facts.withLock { $0.activePlugins = count }
    }

    /// Records a knob turn: journaled before the caller replies, the whole state written later.
    func changed(instanceID: String, symbol: String, value: Double) {
        persistence.recordParameter(state, instanceID: instanceID, symbol: symbol, value: value)
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

/// The session's side of `health_check`.
struct HealthFacts: Sendable {
    var activePlugins = 0
    var problems: [String] = []
    var lastResync: JSONValue = .null
}
