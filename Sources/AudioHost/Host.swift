import Foundation
import Jack
import LV2
import Logging
import ModHostWire

/// The host's state and its answer to every command. Used by the server thread only.
final class Host {
    private let configuration: HostConfiguration
    private let world: LV2World
    let features: HostFeatures
    /// The host's own JACK client (`mod-host`): format, CPU load, transport, and JACK's death.
    let client: JackClient
    private let shared: UnsafeMutablePointer<SharedFlags>
    private var instances: [Int: HostedInstance] = [:]
    var feedback = FeedbackQueue()
    private let logger: Logger
    private var maxCPULoad: Float = 0
    private var transport = (rolling: false, beatsPerBar: 4.0, beatsPerMinute: 120.0)
    /// Monitored output controls and the value last reported.
    private var monitors: [MonitorKey: Float?] = [:]
    /// Set by `quit`: the server stops after replying.
    private(set) var quitRequested = false

    static let instanceRange = 0...9999

    init(configuration: HostConfiguration, logger: Logger) throws(HostFailure) {
        self.configuration = configuration
        self.logger = logger
        do {
            client = try JackClient(name: configuration.clientName, server: configuration.jackServer)
        } catch {
            throw HostFailure(.jackClientCreation, "\(error)")
        }
        guard let world = LV2World() else { throw HostFailure(.memoryAllocation, "lilv cannot make a world") }
        self.world = world
        features = HostFeatures(sampleRate: Double(client.sampleRate), maximumBlockLength: 8192)
        shared = .allocate(capacity: 1)
        shared.initialize(to: SharedFlags())
        do {
            try client.activate()
        } catch {
            throw HostFailure(.jackClientActivation, "\(error)")
        }
    }

    deinit {
        removeAll()
        client.close()
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

    private func run(_ command: CommandLine) throws(HostFailure) -> ModHostReply {
        let arguments = command.arguments
        func int(_ index: Int) -> Int { Int(arguments[index]) ?? 0 }
        func number(_ index: Int) -> Double { Double(arguments[index]) ?? 0 }
        switch command.name {
        case "add":
            return .status(try add(uri: arguments[0], number: int(1)))
        case "remove":
            try remove(int(0))
            return .status(0)
        case "activate":
            // Instances are always active here; answered for the protocol's sake.
            _ = try instance(int(0))
            return .status(0)
        case "bypass":
            try instance(int(0)).bypassed = int(1) != 0
            return .status(0)
        case "param_set":
            try setParameter(int(0), arguments[1], number(2))
            return .status(0)
        case "param_get":
            let found = try instance(int(0))
            guard let value = found.value(arguments[1]) else { throw HostFailure.symbol(arguments[1]) }
            return .value(Double(value))
        case "multi_param_set":
            let count = int(2)
            guard count >= 0, arguments.count == 3 + count else { throw ParseFailureReply.invalid }
            for index in 0..<count { try setParameter(int(3 + index), arguments[0], number(1)) }
            return .status(0)
        case "params_flush":
            let found = try instance(int(0))
            let count = int(2)
            guard count >= 0, arguments.count == 3 + 2 * count else { throw ParseFailureReply.invalid }
            for index in 0..<count {
                let symbol = arguments[3 + 2 * index]
                guard let value = Double(arguments[4 + 2 * index]), value.isFinite else {
                    throw ParseFailureReply.invalid
                }
                guard found.set(symbol, value) != nil else { throw HostFailure.symbol(symbol) }
            }
            return .status(0)
        case "connect":
            do { try client.connect(arguments[0], arguments[1]) } catch {
                throw HostFailure(.jackPortConnection, "\(error)")
            }
            return .status(0)
        case "disconnect":
            do { try client.disconnect(arguments[0], arguments[1]) } catch {
                throw HostFailure(.jackPortDisconnection, "\(error)")
            }
            return .status(0)
        case "disconnect_all":
            do { try client.disconnectAll(arguments[0]) } catch {
                throw HostFailure(.jackPortDisconnection, "\(error)")
            }
            return .status(0)
        case "preset_load":
            try loadPreset(int(0), arguments[1])
            return .status(0)
        case "preset_save":
            let found = try instance(int(0))
            do {
                _ = try world.savePreset(
                    of: found.plugin,
                    label: arguments[1],
                    values: found.controlValues,
                    directory: arguments[2],
                    fileName: arguments[3],
                    features: features
                )
            } catch {
                throw HostFailure(.lv2CantLoadState, error.message)
            }
            return .status(0)
        case "preset_show":
            return .text(world.presetText(arguments[0], features: features) ?? "")
        case "monitor_output":
            // mod-host's inverted boolean: 1 is success.
            guard let found = instances[int(0)], let port = found.control(arguments[1]), port.direction == .output
            else { return .status(0) }
            monitors[MonitorKey(instance: found.number, symbol: port.symbol)] = .some(nil)
            return .status(1)
        case "monitor_output_off":
            let key = MonitorKey(instance: int(0), symbol: arguments[1])
            return .status(monitors.removeValue(forKey: key) == nil ? 0 : 1)
        case "cpu_load":
            return .value(Double(client.cpuLoad))
        case "max_cpu_load":
            sampleLoad()
            return .value(Double(maxCPULoad))
        case "transport":
            transport = (int(0) != 0, number(1), number(2))
            if transport.rolling { client.startTransport() } else { client.stopTransport() }
            reportTransport()
            return .status(0)
        case "set_bpm":
            guard number(0) > 0 else { throw HostFailure(.jackValueOutOfRange, "tempo must be positive") }
            transport.beatsPerMinute = number(0)
            reportTransport()
            return .status(0)
        case "set_bpb":
            guard number(0) > 0 else { throw HostFailure(.jackValueOutOfRange, "beats per bar must be positive") }
            transport.beatsPerBar = number(0)
            reportTransport()
            return .status(0)
        case "output_data_ready":
            feedback.clientReady()
            return .status(0)
        case "feature_enable":
            guard arguments[0] == "processing" else {
                throw HostFailure(.invalidOperation, "feature '\(arguments[0])' is not offered")
            }
            shared.pointee.processing.store(int(1) != 0, ordering: .relaxed)
            return .status(0)
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
            return .parserError(.notFound)
        }
    }

    // MARK: - Instances

    private func instance(_ number: Int) throws(HostFailure) -> HostedInstance {
        guard Self.instanceRange.contains(number) else { throw HostFailure(.instanceInvalid, "instance \(number)") }
        guard let found = instances[number] else {
            throw HostFailure(.instanceNonExists, "no instance \(number)")
        }
        return found
    }

    private func add(uri: String, number: Int) throws(HostFailure) -> Int {
        guard Self.instanceRange.contains(number) else {
            throw HostFailure(.instanceInvalid, "instance \(number) is outside 0…9999")
        }
        guard instances[number] == nil else { throw HostFailure(.instanceAlreadyExists, "instance \(number) exists") }
        do {
            instances[number] = try HostedInstance(
                number: number,
                uri: uri,
                world: world,
                features: features,
                server: configuration.jackServer,
                shared: UnsafePointer(shared)
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
    private func remove(_ number: Int) throws(HostFailure) {
        if number == -1 {
            removeAll()
            return
        }
        let found = try instance(number)
        instances[number] = nil
        found.close()
        monitors = monitors.filter { $0.key.instance != number }
        logger.info("removed", metadata: ["instance": "\(number)"])
    }

    private func removeAll() {
        for found in instances.values { found.close() }
        instances.removeAll()
        monitors.removeAll()
    }

    private func setParameter(_ number: Int, _ symbol: String, _ value: Double) throws(HostFailure) {
        guard try instance(number).set(symbol, value) != nil else { throw HostFailure.symbol(symbol) }
    }

    private func loadPreset(_ number: Int, _ uri: String) throws(HostFailure) {
        let found = try instance(number)
        guard let values = world.presetValues(uri, features: features) else {
            throw HostFailure(.lv2CantLoadState, "no preset \(uri)")
        }
        for (symbol, value) in values { found.set(symbol, value) }
    }

    /// Waits (up to 1 s) for every instance to complete one more cycle.
    private func waitCycle() {
        let start = instances.mapValues(\.cycles)
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline {
            if instances.allSatisfy({ $0.value.cycles != start[$0.key] }) { return }
            usleep(500)
        }
    }

    // MARK: - Feedback

    /// Called by the server between commands: monitored outputs that changed are queued.
    func pollOutputs() {
        sampleLoad()
        for (key, last) in monitors {
            guard let value = instances[key.instance]?.value(key.symbol) else { continue }
            if last != value {
                monitors[key] = .some(value)
                feedback.append("output_set \(key.instance) \(key.symbol) \(format6(value))")
            }
        }
    }

    private func sampleLoad() { maxCPULoad = max(maxCPULoad, client.cpuLoad) }

    private func reportTransport() {
        feedback.append(
            "transport \(transport.rolling ? 1 : 0) \(format6(transport.beatsPerBar)) \(format6(transport.beatsPerMinute))"
        )
    }
}

struct MonitorKey: Hashable {
    var instance: Int
    var symbol: String
}

extension HostFailure {
    static func symbol(_ symbol: String) -> HostFailure {
        HostFailure(.lv2InvalidParamSymbol, "no control port '\(symbol)'")
    }
}

/// A variadic command whose counts do not add up: mod-host reads past its list; we refuse it.
enum ParseFailureReply {
    static let invalid = HostFailure(.invalidOperation, "argument counts do not match")
}

/// mod-host's `%f`.
func format6<T: BinaryFloatingPoint>(_ value: T) -> String { String(format: "%f", Double(value)) }
