import Foundation
import Jack
import LV2
import Logging
import ModHostWire

/// The host's state and its answer to every command. Used by the server thread only.
final class Host {
    let configuration: HostConfiguration
    /// Read in the background from the start; ``world`` waits for it.
    let worldLoad: WorldLoad
    /// Every bundle on the search path, once read: only commands about plugins ask for it.
    var world: LV2World { worldLoad.world }
    let features: HostFeatures
    /// The host's own JACK client (`mod-host`): format, CPU load, transport, audio monitors, and
    /// JACK's death.
    let client: JackClient
    let shared: UnsafeMutablePointer<SharedFlags>
    let realtime: UnsafeMutablePointer<HostRealtime>
    var instances: [Int: HostedInstance] = [:]
    var feedback = FeedbackQueue()
    let logger: Logger
    var maxCPULoad: Float = 0
    var transport = TransportState()
    /// Monitored output controls and the value last reported.
    var monitors: [MonitorKey: Float?] = [:]
    /// The `monitor` command's socket, its `param_monitor` conditions and `monitor_audio_levels`.
    var monitoring = MonitoringState()
    /// Commands run so far, for `save`.
    var history = CommandHistory()
    /// Nesting of `load` inside `load`.
    var loadDepth = 0
    /// MIDI mappings by slot of the audio thread's table: what its events are about.
    var midiMappings: [Int: MIDIMappingInfo] = [:]
    /// CV-driven parameters and the value last reported.
    var cvFollowed: [MonitorKey: Float?] = [:]
    /// `state_tmpdir`, as given.
    var stateScratchDirectory: String?
    /// `feature_enable cpu-load 1`: a `cpu_load` feedback line every half second.
    var reportsCPULoad = false
    var lastCPULoadReport = ContinuousClock.now
    /// Set by `quit`: the server stops after replying.
    private(set) var quitRequested = false

    static let instanceRange = 0...9999

    init(configuration: HostConfiguration, logger: Logger) throws(HostFailure) {
        self.configuration = configuration
        self.logger = logger
        // The bundles are read while JACK's client opens and the sockets listen.
        guard let worldLoad = WorldLoad(delay: configuration.worldLoadDelay) else {
            throw HostFailure(.memoryAllocation, "lilv cannot make a world")
        }
        self.worldLoad = worldLoad
        do {
            client = try JackClient(name: configuration.clientName, server: configuration.jackServer)
        } catch {
            throw HostFailure(.jackClientCreation, "\(error)")
        }
        features = HostFeatures(sampleRate: Double(client.sampleRate), maximumBlockLength: 8192)
        shared = .allocate(capacity: 1)
        shared.initialize(to: SharedFlags())
        // mod-host's own MIDI input, where controllers are mapped to parameters.
        let midiInput = try? client.registerPort("midi_in", type: .midi, direction: .input)
        realtime = HostRealtime.make(midiInput: midiInput, sampleRate: Double(client.sampleRate))
        do {
            try client.setProcessCallback(processHost, context: UnsafeMutableRawPointer(realtime))
            try client.activate()
        } catch {
            throw HostFailure(.jackClientActivation, "\(error)")
        }
        // As mod-host: every hardware MIDI input reaches `midi_in`.
        if let midiInput {
            for port in client.ports(type: .midi, direction: .output, physical: true) {
                try? client.connect(port, midiInput.name)
            }
        }
    }

    deinit {
        removeAll()
        monitoring.close()
        client.close()
        HostRealtime.free(realtime)
        shared.deinitialize(count: 1)
        shared.deallocate()
    }

    /// Executes one command and returns the reply.
    func execute(_ text: String) -> ModHostReply {
        let command: CommandLine
        do {
            command = try CommandTable.parse(text)
        } catch {
            return .parserError(error)
        }
        if client.isShutDown { return .error(.jackClientCreation) }
        do {
            return try run(command)
        } catch {
            logger.notice("command failed", metadata: ["command": "\(command.name)", "error": "\(error)"])
            return .error(error.code)
        }
    }

    /// Runs a parsed command: each group of commands lives in the extension named after it.
    private func run(_ command: CommandLine) throws(HostFailure) -> ModHostReply {
        history.record(command)
        let arguments = Arguments(command.arguments)
        switch command.name {
        case "add": return .status(try add(uri: arguments[0], number: arguments.int(1)))
        case "preload": return .status(try add(uri: arguments[0], number: arguments.int(1), activate: false))
        case "remove":
            try remove(arguments.int(0))
            return .status(0)
        case "activate":
            try activate(arguments.int(0), arguments.int(1) != 0)
            return .status(0)
        case "bypass":
            try bypass(arguments.int(0), arguments.int(1) != 0)
            return .status(0)
        case "param_set":
            try setParameter(arguments.int(0), arguments[1], arguments.number(2))
            return .status(0)
        case "param_get": return .value(Double(try parameter(arguments.int(0), arguments[1])))
        case "params_flush", "pre_run":
            try flush(
                [arguments.int(0)],
                try arguments.pairs(from: 2),
                preRun: command.name == "pre_run"
            )
            return .status(0)
        case "preset_load":
            try loadPreset(arguments.int(0), arguments[1])
            return .status(0)
        case "preset_save":
            try savePreset(arguments.int(0), label: arguments[1], directory: arguments[2], file: arguments[3])
            return .status(0)
        case "preset_show": return .text(world.presetText(arguments[0], features: features) ?? "")
        case "cpu_load": return .value(Double(client.cpuLoad))
        case "max_cpu_load":
            sampleLoad()
            return .value(Double(maxCPULoad))
        case "output_data_ready":
            feedback.clientReady()
            return .status(0)
        case "feature_enable": return .status(try enableFeature(arguments[0], arguments.int(1)))
        case "wait_audio_cycle":
            waitCycle()
            return .status(0)
        case "help":
            // mod-host prints help on its own stdout and answers nothing; a client would hang.
            throw HostFailure(.invalidOperation, "help is not offered on the socket")
        case "quit":
            quitRequested = true
            return .status(0)
        default:
            if let reply = try runTransport(command.name, arguments) { return reply }
            if let reply = try runGraph(command.name, arguments) { return reply }
            if let reply = try runBatch(command.name, arguments) { return reply }
            if let reply = try runMonitoring(command.name, arguments) { return reply }
            if let reply = try runHistory(command.name, arguments) { return reply }
            if let reply = runMIDI(command.name, arguments) { return reply }
            if let reply = try runCV(command.name, arguments) { return reply }
            if let reply = try runState(command.name, arguments) { return reply }
            if let reply = try runPatch(command.name, arguments) { return reply }
            if let reply = runUnavailable(command.name, arguments) { return reply }
            return .parserError(.notFound)
        }
    }

    // MARK: - Instances

    /// An instance of a plugin; 9995, mod-host's transport instance, is not one (see
    /// `Host+Transport.swift`).
    func instance(_ number: Int) throws(HostFailure) -> HostedInstance {
        guard Self.instanceRange.contains(number) else { throw HostFailure(.instanceInvalid, "instance \(number)") }
        guard let found = instances[number] else {
            throw HostFailure(.instanceNonExists, "no instance \(number)")
        }
        return found
    }

    func add(uri: String, number: Int, activate: Bool = true) throws(HostFailure) -> Int {
        guard Self.instanceRange.contains(number) else {
            throw HostFailure(.instanceInvalid, "instance \(number) is outside 0…9999")
        }
        guard instances[number] == nil, number != transportInstance else {
            throw HostFailure(.instanceAlreadyExists, "instance \(number) exists")
        }
        do {
            instances[number] = try HostedInstance(
                number: number,
                uri: uri,
                world: world,
                features: features,
                server: configuration.jackServer,
                shared: UnsafePointer(shared),
                activate: activate
            )
        } catch {
            logger.warning("cannot add plugin", metadata: ["uri": "\(uri)", "error": "\(error.message)"])
            throw error
        }
        logger.info("added", metadata: ["instance": "\(number)", "uri": "\(uri)"])
        return number
    }

    /// `remove -1` removes every instance; an unknown instance is `-3`, not mod-host's silent 0,
    /// so a client learns its view of the rig was wrong.
    func remove(_ number: Int) throws(HostFailure) {
        if number == -1 {
            removeAll()
            return
        }
        let found = try instance(number)
        unmapMIDI(instance: number)
        instances[number] = nil
        found.close()
        monitors = monitors.filter { $0.key.instance != number }
        monitoring.conditions.removeAll { $0.instance == number }
        logger.info("removed", metadata: ["instance": "\(number)"])
    }

    func removeAll() {
        for number in instances.keys { unmapMIDI(instance: number) }
        for found in instances.values { found.close() }
        instances.removeAll()
        monitors.removeAll()
        monitoring.conditions.removeAll()
    }

    func activate(_ number: Int, _ active: Bool) throws(HostFailure) {
        if number == transportInstance { return }
        try instance(number).setActive(active)
    }

    func bypass(_ number: Int, _ bypassed: Bool) throws(HostFailure) {
        if number == transportInstance {
            transport.bypass = bypassed ? 1 : 0
            return
        }
        try instance(number).bypassed = bypassed
    }

    /// `param_set`: a control input, or one of mod-host's special symbols (`:bypass`, `:presets`,
    /// and on 9995 `:bpm`, `:bpb`, `:rolling`). Values are clamped into the port's range.
    func setParameter(_ number: Int, _ symbol: String, _ value: Double) throws(HostFailure) {
        if number == transportInstance {
            try setTransportParameter(symbol, value)
            return
        }
        let found = try instance(number)
        switch symbol {
        case ":bypass": found.setBypass(Float(value))
        case ":presets": found.presetValue = Float(min(max(value, 0), 1))
        default: guard found.set(symbol, value) != nil else { throw HostFailure.symbol(symbol) }
        }
    }

    /// `param_get`: control inputs and the special symbols only; an output is `-103`, as in
    /// mod-host (outputs are read through `monitor_output`).
    func parameter(_ number: Int, _ symbol: String) throws(HostFailure) -> Float {
        if number == transportInstance { return try transportParameter(symbol) }
        let found = try instance(number)
        switch symbol {
        case ":bypass": return found.bypassValue
        case ":presets": return found.presetValue
        default:
            guard found.controlInput(symbol) != nil, let value = found.value(symbol) else {
                throw HostFailure.symbol(symbol)
            }
            return value
        }
    }

    /// `params_flush` and `pre_run`, for one or many instances: unknown symbols are skipped, as
    /// mod-host skips them. `pre_run` then runs a stopped instance once.
    func flush(_ numbers: [Int], _ values: [(String, Double)], preRun: Bool) throws(HostFailure) {
        // One instance answers for itself; several skip the ones that are gone, as in mod-host.
        let single = numbers.count == 1
        for number in numbers {
            if number == transportInstance {
                for (symbol, value) in values { try? setTransportParameter(symbol, value) }
                continue
            }
            let found: HostedInstance
            if single {
                found = try instance(number)
            } else {
                guard let known = instances[number] else { continue }
                found = known
            }
            for (symbol, value) in values { try? setParameter(number, symbol, value) }
            if preRun {
                if found.isActive && shared.pointee.processing.load(ordering: .relaxed) {
                    if single { throw HostFailure(.invalidOperation, "pre_run of a running instance") }
                    continue
                }
                found.preRun(frames: Int(client.bufferSize))
            }
        }
    }

    func loadPreset(_ number: Int, _ uri: String) throws(HostFailure) {
        let found = try instance(number)
        guard let values = world.presetValues(uri, features: features) else {
            throw HostFailure(.lv2CantLoadState, "no preset \(uri)")
        }
        for (symbol, value) in values { found.set(symbol, value) }
        // As mod-host: a preset does not undo bypass through the plugin's lv2:enabled port.
        found.setBypass(found.bypassValue)
    }

    /// A missing instance is `-1` here, as mod-host answers `preset_save` (not `-3`).
    func savePreset(_ number: Int, label: String, directory: String, file: String) throws(HostFailure) {
        guard let found = instances[number] else { throw HostFailure(.instanceInvalid, "no instance \(number)") }
        do {
            _ = try world.savePreset(
                of: found.plugin,
                label: label,
                values: found.controlValues,
                directory: directory,
                fileName: file,
                features: features
            )
        } catch {
            throw HostFailure(.lv2CantLoadState, error.message)
        }
    }

    /// Waits (up to 1 s) for every running instance, and the host's client, to complete one
    /// more cycle.
    func waitCycle() {
        let start = instances.filter(\.value.isActive).mapValues(\.cycles)
        let hostStart = realtime.pointee.counters[1].load(ordering: .acquiring)
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline {
            let hostMoved = realtime.pointee.counters[1].load(ordering: .acquiring) != hostStart
            if hostMoved && start.allSatisfy({ instances[$0.key]?.cycles != $0.value }) { return }
            usleep(500)
        }
    }

    // MARK: - Feedback

    /// Called by the server between commands: monitored outputs that changed are queued, and
    /// audio levels, `param_monitor` conditions and the CPU load are looked at.
    func pollOutputs() {
        sampleLoad()
        for (key, last) in monitors {
            guard let value = instances[key.instance]?.value(key.symbol) else { continue }
            if last != value {
                monitors[key] = .some(value)
                feedback.append("output_set \(key.instance) \(key.symbol) \(format6(value))")
            }
        }
        pollMonitoring()
        pollMIDI()
        pollCV()
        pollPatch()
        if reportsCPULoad, ContinuousClock.now - lastCPULoadReport >= .milliseconds(500) {
            lastCPULoadReport = .now
            feedback.append("cpu_load \(format6(client.cpuLoad)) \(format6(maxCPULoad)) \(client.xruns)")
        }
    }

    func sampleLoad() { maxCPULoad = max(maxCPULoad, client.cpuLoad) }
}

struct MonitorKey: Hashable {
    var instance: Int
    var symbol: String
}

extension HostFailure {
    static func symbol(_ symbol: String) -> HostFailure {
        HostFailure(.lv2InvalidParamSymbol, "no control port '\(symbol)'")
    }

    /// A batch command whose count does not match its list: mod-host answers a zero count, or a
    /// short `cc_map` list, with `-302`, and reads past the end of any other; we answer all `-302`.
    static let countMismatch = HostFailure(.assignmentInvalidOp, "the count does not match the arguments")
}

/// A command's arguments, read by position; the parser has checked the fixed ones' types.
struct Arguments {
    var values: [String]
    init(_ values: [String]) { self.values = values }

    var count: Int { values.count }
    subscript(_ index: Int) -> String { values[index] }
    func int(_ index: Int) -> Int { Int(values[index]) ?? 0 }
    func number(_ index: Int) -> Double { Double(values[index]) ?? 0 }

    /// A variadic argument that must be an integer.
    func checkedInt(_ index: Int) throws(HostFailure) -> Int {
        guard index < values.count, let value = Int(values[index]) else { throw HostFailure.countMismatch }
        return value
    }

    /// `<count> <symbol> <value>…` from `index` to the end, exactly.
    func pairs(from index: Int) throws(HostFailure) -> [(String, Double)] {
        let count = try checkedInt(index)
        guard count >= 0, values.count == index + 1 + 2 * count else { throw HostFailure.countMismatch }
        var pairs: [(String, Double)] = []
        for pair in 0..<count {
            guard let value = Double(values[index + 2 + 2 * pair]), value.isFinite else {
                throw HostFailure(.invalidOperation, "'\(values[index + 2 + 2 * pair])' is not a number")
            }
            pairs.append((values[index + 1 + 2 * pair], value))
        }
        return pairs
    }
}

/// mod-host's `%f`.
func format6<T: BinaryFloatingPoint>(_ value: T) -> String { String(format: "%f", Double(value)) }
