import Foundation
import Jack
import ModHostWire

#if canImport(Glibc)
import Glibc
#endif

/// What is watched besides monitored outputs: the `monitor` socket and its `param_monitor`
/// conditions, audio level monitors, and the MIDI channels whose messages are reported.
struct MonitoringState {
    /// The socket `monitor <host> <port> 1` dialled, or -1.
    var socket: Int32 = -1
    var conditions: [ParameterCondition] = []
    /// Sources of `monitor_audio_levels`, in the order of their ports `monitor_1`, `monitor_2`…
    var audioSources: [(source: String, port: JackPort)] = []
    var midiControlChannels = Set<Int>()
    var midiProgramChannels = Set<Int>()

    mutating func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }
}

/// `param_monitor <instance> <symbol> <op> <value>`: report the value while `op value` holds.
struct ParameterCondition {
    var instance: Int
    var symbol: String
    var operation: String
    var threshold: Float
    var lastSent: Float = 0

    static let operations: Set<String> = [">", ">=", "<", "<=", "==", "!="]

    func holds(_ value: Float) -> Bool {
        switch operation {
        case ">": value > threshold
        case ">=": value >= threshold
        case "<": value < threshold
        case "<=": value <= threshold
        case "==": !differs(value, threshold)
        default: differs(value, threshold)
        }
    }
}

/// mod-host's `floats_differ_enough`.
func differs(_ first: Float, _ second: Float) -> Bool { abs(first - second) >= .ulpOfOne }

extension Host {
    func runMonitoring(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "monitor_output", "monitor_output_off":
            // mod-host's inverted boolean: 1 is success, 0 a missing instance or output port.
            guard let found = instances[arguments.int(0)], let port = found.control(arguments[1]),
                port.direction == .output
            else { return .status(0) }
            let key = MonitorKey(instance: found.number, symbol: port.symbol)
            if name == "monitor_output" {
                if monitors[key] == nil { monitors[key] = .some(nil) }
            } else {
                monitors[key] = nil
            }
            return .status(1)
        case "monitor":
            monitoring.close()
            guard arguments.int(2) == 1 else { return .status(0) }
            // mod-host answers 1 when it cannot connect.
            guard let socket = dial(arguments[0], port: arguments.int(1)) else { return .status(1) }
            monitoring.socket = socket
            return .status(0)
        case "param_monitor":
            guard monitoring.socket >= 0 else {
                throw HostFailure(.instanceInvalid, "param_monitor needs a monitor connection first")
            }
            _ = try parameter(arguments.int(0), arguments[1])
            guard ParameterCondition.operations.contains(arguments[2]) else {
                throw HostFailure(.assignmentInvalidOp, "no operator '\(arguments[2])'")
            }
            monitoring.conditions.append(
                ParameterCondition(
                    instance: arguments.int(0),
                    symbol: arguments[1],
                    operation: arguments[2],
                    threshold: Float(arguments.number(3))
                )
            )
            return .status(0)
        case "monitor_audio_levels":
            try monitorAudioLevels(arguments[0], arguments.int(1) != 0)
            return .status(0)
        case "monitor_midi_control", "monitor_midi_program":
            let channel = arguments.int(0)
            guard (0...15).contains(channel) else { throw HostFailure(.invalidOperation, "channel \(channel)") }
            let on = arguments.int(1) != 0
            if name == "monitor_midi_control" {
                if on {
                    monitoring.midiControlChannels.insert(channel)
                } else {
                    monitoring.midiControlChannels.remove(channel)
                }
            } else {
                if on {
                    monitoring.midiProgramChannels.insert(channel)
                } else {
                    monitoring.midiProgramChannels.remove(channel)
                }
            }
            return .status(0)
        default:
            return nil
        }
    }

    /// mod-host's monitors form a stack: a new source gets the next port, and only the last one
    /// added can be turned off.
    private func monitorAudioLevels(_ source: String, _ on: Bool) throws(HostFailure) {
        let counters = realtime.pointee.counters
        if on {
            if monitoring.audioSources.contains(where: { $0.source == source }) { return }
            let index = monitoring.audioSources.count
            guard index < audioMonitorCapacity else {
                throw HostFailure(.memoryAllocation, "\(audioMonitorCapacity) audio monitors at most")
            }
            let port: JackPort
            do { port = try client.registerPort("monitor_\(index + 1)", type: .audio, direction: .input) } catch {
                throw HostFailure(.jackPortRegister, "\(error)")
            }
            try? client.connect(source, port.name)
            realtime.pointee.monitorPorts[index] = port
            realtime.pointee.peaks[index].store(0, ordering: .relaxed)
            counters[0].store(index + 1, ordering: .releasing)
            monitoring.audioSources.append((source, port))
        } else {
            guard let last = monitoring.audioSources.last, last.source == source else {
                throw HostFailure(.invalidOperation, "\(source) is not the last audio monitor")
            }
            monitoring.audioSources.removeLast()
            counters[0].store(monitoring.audioSources.count, ordering: .releasing)
            waitCycle()
            realtime.pointee.monitorPorts[monitoring.audioSources.count] = nil
            try? client.unregisterPort(last.port)
        }
    }

    /// Audio peaks since the last look, and `param_monitor` conditions, reported.
    func pollMonitoring() {
        for index in monitoring.audioSources.indices {
            let bits = realtime.pointee.peaks[index].exchange(0, ordering: .acquiring)
            let peak = Float(bitPattern: bits)
            if peak > 0 { feedback.append("audio_monitor \(index) \(format6(peak))") }
        }
        guard monitoring.socket >= 0 else { return }
        for index in monitoring.conditions.indices {
            let condition = monitoring.conditions[index]
            guard let value = try? parameter(condition.instance, condition.symbol) else { continue }
            guard condition.holds(value), differs(value, condition.lastSent) else { continue }
            let message = Array("monitor \(condition.instance) \(condition.symbol) \(format6(value))".utf8) + [0]
            let sent = message.withUnsafeBytes {
                send(monitoring.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent == message.count { monitoring.conditions[index].lastSent = value }
        }
    }

    /// A TCP connection to `host:port`, made non-blocking once connected, as mod-host's.
    private func dial(_ host: String, port: Int) -> Int32? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let first = found else { return nil }
        defer { freeaddrinfo(first) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            if fd >= 0 {
                if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
                    return fd
                }
                Glibc.close(fd)
            }
            entry = address.pointee.ai_next
        }
        return nil
    }
}
