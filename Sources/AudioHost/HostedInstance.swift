import Foundation
import Jack
import LV2
import ModHostWire
import Synchronization

/// One plugin instance: its JACK client `effect_<N>`, its lilv instance and the memory its
/// audio thread uses. Made, changed and closed by the host's command thread only.
final class HostedInstance {
    let number: Int
    let plugin: LoadedPlugin
    let client: JackClient
    private let realtime: UnsafeMutablePointer<RealtimeInstance>
    /// Port slot (= LV2 index) of each symbol.
    private let slots: [String: Int]
    private var closed = false
    /// The `lv2:enabled` port: a plugin with one is told it is bypassed and bypasses itself.
    private let enabledSymbol: String?
    /// Whether the JACK client runs (`preload` adds an instance that does not, yet).
    private(set) var isActive = false
    /// `:bypass` as mod-host keeps it: a float, bypassed above 0.5.
    private(set) var bypassValue: Float = 0
    /// `:presets`, mod-host's virtual port for preset selection by controllers: kept, not acted on.
    var presetValue: Float = 0
    /// The plugin's LV2 worker; its thread runs only for a plugin with a worker interface.
    private let worker: PluginWorker
    /// Parameters set and read with `patch_set` / `patch_get`.
    let patchParameters: [PatchParameter]

    var info: PluginInfo { plugin.info }

    /// Loads `uri` as instance `number` and starts it processing.
    init(
        number: Int,
        uri: String,
        world: LV2World,
        features: HostFeatures,
        server: String?,
        shared: UnsafePointer<SharedFlags>,
        activate: Bool = true
    ) throws(HostFailure) {
        let plugin: LoadedPlugin
        let worker = PluginWorker()
        features.offerWorker(worker.scheduleFeature)
        defer { features.offerWorker(nil) }
        do {
            plugin = try LoadedPlugin(world: world, uri: uri, features: features)
        } catch {
            throw HostFailure(error.kind == .unknownURI ? .lv2InvalidURI : .lv2Instantiation, error.message)
        }
        features.offerWorker(nil)
        // Not yet active: a plugin restores its default state at once, without its worker.
        world.loadDefaultState(of: plugin, features: features)
        self.worker = worker
        patchParameters = world.patchParameters(of: plugin)
        let patchSlot = world.patchControlInput(of: plugin) ?? -1
        let client: JackClient
        do {
            client = try JackClient(name: "effect_\(number)", server: server)
        } catch {
            throw HostFailure(.jackClientCreation, "\(error)")
        }
        self.number = number
        self.plugin = plugin
        self.client = client
        enabledSymbol =
            plugin.info.ports.first {
                $0.kind == .control && $0.direction == .input && $0.designation == "enabled"
            }?.symbol

        let ports = plugin.info.ports
        let count = ports.count
        var slots: [String: Int] = [:]
        let realtimePorts = UnsafeMutablePointer<RealtimePort>.allocate(capacity: max(count, 1))
        let values = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        let pending = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: max(count, 1))
        let published = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: max(count, 1))
        let state = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 3)
        for index in 0..<3 { (state + index).initialize(to: Atomic(0)) }
        let inputs = ports.filter { $0.kind == .audio && $0.direction == .input }.map(\.index)
        let outputs = ports.filter { $0.kind == .audio && $0.direction == .output }.map(\.index)
        let audioInputs = UnsafeMutablePointer<Int>.allocate(capacity: max(inputs.count, 1))
        audioInputs.initialize(from: inputs, count: inputs.count)
        let audioOutputs = UnsafeMutablePointer<Int>.allocate(capacity: max(outputs.count, 1))
        audioOutputs.initialize(from: outputs, count: outputs.count)
        let buffers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(count, 1))
        buffers.initialize(repeating: nil, count: max(count, 1))
        let cvSources = UnsafeMutablePointer<CVSource>.allocate(capacity: max(count, 1))
        cvSources.initialize(repeating: CVSource(), count: max(count, 1))
        let cvActive = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: max(count, 1))
        for slot in 0..<max(count, 1) { (cvActive + slot).initialize(to: Atomic(0)) }

        var failure: HostFailure?
        for port in ports {
            let slot = port.index
            slots[port.symbol] = slot
            let initial = Float(port.defaultValue ?? port.minimum ?? 0)
            (values + slot).initialize(to: initial)
            (pending + slot).initialize(to: Atomic(noPendingValue))
            (published + slot).initialize(to: Atomic(initial.bitPattern))
            var realtimePort = RealtimePort(role: .unused, index: slot, jack: nil, atom: nil)
            do {
                switch port.kind {
                case .audio, .cv:
                    realtimePort.role = port.direction == .input ? .signalInput : .signalOutput
                    realtimePort.jack = try client.registerPort(
                        port.symbol,
                        type: .audio,
                        direction: port.direction == .input ? .input : .output
                    )
                case .control:
                    realtimePort.role = port.direction == .input ? .controlInput : .controlOutput
                    plugin.realtime.connect(slot, to: UnsafeMutableRawPointer(values + slot))
                case .atom, .event:
                    realtimePort.role = port.direction == .input ? .atomInput : .atomOutput
                    let atom = UnsafeMutableRawPointer.allocate(byteCount: atomCapacity, alignment: 8)
                    atom.initializeMemory(as: UInt8.self, repeating: 0, count: atomCapacity)
                    realtimePort.atom = atom
                    plugin.realtime.connect(slot, to: atom)
                    if port.supportsMIDI {
                        realtimePort.jack = try client.registerPort(
                            port.symbol,
                            type: .midi,
                            direction: port.direction == .input ? .input : .output
                        )
                    }
                case .other:
                    break
                }
            } catch {
                failure = HostFailure(.jackPortRegister, "\(error)")
            }
            (realtimePorts + slot).initialize(to: realtimePort)
        }
        self.slots = slots
        let patchControl = patchSlot >= 0 && patchSlot < count && realtimePorts[patchSlot].atom != nil ? patchSlot : -1
        realtime = .allocate(capacity: 1)
        realtime.initialize(
            to: RealtimeInstance(
                plugin: plugin.realtime,
                ports: realtimePorts,
                portCount: count,
                values: values,
                pending: pending,
                published: published,
                state: state,
                shared: shared,
                audioInputs: audioInputs,
                audioInputCount: inputs.count,
                audioOutputs: audioOutputs,
                audioOutputCount: outputs.count,
                buffers: buffers,
                sequenceType: features.urid("http://lv2plug.in/ns/ext/atom#Sequence"),
                chunkType: features.urid("http://lv2plug.in/ns/ext/atom#Chunk"),
                midiEventType: features.urid("http://lv2plug.in/ns/ext/midi#MidiEvent"),
                cvSources: cvSources,
                cvActive: cvActive,
                patch: .make(controlSlot: patchControl, urids: PatchURIDs(features)),
                worker: worker.realtime
            )
        )
        if let failure {
            close()
            throw failure
        }
        worker.start(for: plugin)
        plugin.activate()
        if let enabledSymbol { set(enabledSymbol, 1) }
        do {
            try client.setProcessCallback(processInstance, context: UnsafeMutableRawPointer(realtime))
        } catch {
            close()
            throw HostFailure(.jackClientActivation, "\(error)")
        }
        if activate {
            do { try setActive(true) } catch {
                close()
                throw error
            }
        }
    }

    /// Starts or stops the JACK client (`activate`); stopping drops its connections, as in JACK.
    func setActive(_ active: Bool) throws(HostFailure) {
        guard active != isActive else { return }
        do {
            if active { try client.activate() } else { try client.deactivate() }
        } catch {
            throw HostFailure(active ? .jackClientActivation : .jackClientDeactivation, "\(error)")
        }
        isActive = active
    }

    /// Runs one block on this thread while the JACK client is stopped (`pre_run`), with silent
    /// scratch buffers, so a preloaded plugin settles before it is heard.
    func preRun(frames: Int) {
        guard !isActive else { return }
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: frames * 4, alignment: 16)
        defer { scratch.deallocate() }
        realtime.pointee.preRun(frames: UInt32(frames), scratch: scratch)
    }

    deinit { close() }

    /// Stops the audio thread, then frees what it used. Safe to call twice.
    func close() {
        guard !closed else { return }
        closed = true
        if isActive { try? client.deactivate() }
        client.close()
        worker.finish()
        plugin.deactivate()
        let instance = realtime.pointee
        instance.patch.free()
        for slot in 0..<instance.portCount { instance.ports[slot].atom?.deallocate() }
        instance.ports.deallocate()
        instance.values.deallocate()
        instance.pending.deallocate()
        instance.published.deallocate()
        instance.state.deallocate()
        instance.audioInputs.deallocate()
        instance.audioOutputs.deallocate()
        instance.buffers.deallocate()
        instance.cvSources.deallocate()
        instance.cvActive.deallocate()
        realtime.deallocate()
    }

    /// Whether the plugin has an atom input that takes patch messages.
    var takesPatchMessages: Bool { realtime.pointee.patch.controlSlot >= 0 }

    /// Queues a patch message (a whole atom) for the plugin's next cycle; false when the ring
    /// is full.
    func sendPatch(_ atom: [UInt8]) -> Bool {
        guard takesPatchMessages else { return false }
        return atom.withUnsafeBytes { realtime.pointee.patch.input.write($0) }
    }

    /// The values of the `patch:Set` messages the plugin wrote since the last call: property
    /// URID, value type URID and value body.
    func takePatchValues() -> [(property: UInt32, type: UInt32, body: [UInt8])] {
        let ring = realtime.pointee.patch.output
        var result: [(property: UInt32, type: UInt32, body: [UInt8])] = []
        var header = [UInt32](repeating: 0, count: 3)
        while header.withUnsafeMutableBytes({ ring.peek(into: $0.baseAddress!, count: 12) }) {
            var body = [UInt8](repeating: 0, count: Int(header[1]))
            guard body.withUnsafeMutableBytes({ ring.peek(into: $0.baseAddress!, count: $0.count, offset: 12) })
            else { break }
            ring.skip(12 + body.count)
            result.append((header[0], header[2], body))
        }
        return result
    }

    /// The port of `symbol` if it is a control port.
    func control(_ symbol: String) -> PortInfo? {
        guard let slot = slots[symbol] else { return nil }
        let port = plugin.info.ports[slot]
        return port.kind == .control ? port : nil
    }

    /// The port of `symbol` if it is a control input: what mod-host's `param_get` reads.
    func controlInput(_ symbol: String) -> PortInfo? {
        guard let port = control(symbol), port.direction == .input else { return nil }
        return port
    }

    /// Queues a control input's new value (clamped into its range); the next cycle applies it.
    /// Returns the value applied.
    @discardableResult
    func set(_ symbol: String, _ value: Double) -> Float? {
        guard let port = control(symbol), port.direction == .input else { return nil }
        let clamped = Float(port.clamped(value))
        realtime.pointee.pending[port.index].store(clamped.bitPattern, ordering: .releasing)
        // Readers see the new value at once, even before the cycle that applies it.
        realtime.pointee.published[port.index].store(clamped.bitPattern, ordering: .releasing)
        return clamped
    }

    /// A control port's current value (inputs: the last asked for; outputs: after the last cycle).
    func value(_ symbol: String) -> Float? {
        guard let port = control(symbol) else { return nil }
        return Float(bitPattern: realtime.pointee.published[port.index].load(ordering: .acquiring))
    }

    var bypassed: Bool {
        get { bypassValue > 0.5 }
        set { setBypass(newValue ? 1 : 0) }
    }

    /// Sets `:bypass` (clamped to 0…1). A plugin with an `lv2:enabled` port gets it as that
    /// port's value and keeps running; any other is bypassed by the host (input copied to output).
    func setBypass(_ value: Float) {
        bypassValue = min(max(value, 0), 1)
        let bypassed = bypassValue > 0.5
        if let enabledSymbol {
            set(enabledSymbol, bypassed ? 0 : 1)
            realtime.pointee.state[0].store(0, ordering: .relaxed)
        } else {
            realtime.pointee.state[0].store(bypassed ? 1 : 0, ordering: .relaxed)
        }
    }

    /// Where a MIDI controller mapped to `symbol` (a control input or `:bypass`) writes, with
    /// the mapping's range; nil for other symbols.
    func midiTarget(_ symbol: String, minimum: Float, maximum: Float) -> MIDITarget? {
        var target = MIDITarget(minimum: minimum, maximum: maximum)
        if symbol == ":bypass" {
            target.isBypass = true
            if let enabledSymbol, let port = controlInput(enabledSymbol) {
                target.pending = realtime.pointee.pending + port.index
                target.published = realtime.pointee.published + port.index
            } else {
                target.bypassFlag = realtime.pointee.state
            }
            return target
        }
        guard let port = controlInput(symbol) else { return nil }
        target.pending = realtime.pointee.pending + port.index
        target.published = realtime.pointee.published + port.index
        target.toggle = port.properties.contains("toggled")
        target.trigger = port.properties.contains("trigger")
        target.logarithmic = port.properties.contains("logarithmic")
        target.integer = port.properties.contains("integer")
        target.portMinimum = Float(port.minimum ?? -Double(Float.greatestFiniteMagnitude))
        target.portMaximum = Float(port.maximum ?? Double(Float.greatestFiniteMagnitude))
        return target
    }

    /// `cv_map`: drives a control input from a new CV input port named after it (or the same
    /// port again, with a new range). Returns false for a symbol that is not a control input.
    func mapCV(
        _ symbol: String,
        source: String,
        range: (Float, Float),
        sourceRange: (Float, Float)
    )
        throws(HostFailure) -> Bool
    {
        guard let port = controlInput(symbol) else { return false }
        let slot = port.index
        let instance = realtime.pointee
        var cvPort = instance.cvSources[slot].port
        if cvActive(slot) {
            instance.cvActive[slot].store(0, ordering: .releasing)
            waitCycles(2)
        }
        if cvPort == nil {
            do { cvPort = try client.registerPort(symbol, type: .audio, direction: .input) } catch {
                throw HostFailure(.jackPortRegister, "\(error)")
            }
        }
        instance.cvSources[slot] = CVSource(
            port: cvPort,
            sourceMinimum: sourceRange.0,
            sourceMaximum: sourceRange.1,
            minimum: range.0,
            maximum: range.1,
            toggle: port.properties.contains("toggled"),
            integer: port.properties.contains("integer")
        )
        instance.cvActive[slot].store(1, ordering: .releasing)
        if let cvPort { try? client.connect(source, cvPort.name) }
        return true
    }

    /// `cv_unmap`: the CV port goes; false for a symbol that is not a control input.
    func unmapCV(_ symbol: String) -> Bool {
        guard let port = controlInput(symbol) else { return false }
        let instance = realtime.pointee
        guard let cvPort = instance.cvSources[port.index].port else { return true }
        instance.cvActive[port.index].store(0, ordering: .releasing)
        waitCycles(2)
        instance.cvSources[port.index] = CVSource()
        try? client.unregisterPort(cvPort)
        return true
    }

    /// Runs `body` while the audio thread leaves the plugin alone (its outputs silent), for
    /// what LV2 forbids beside `run`, such as restoring state.
    func whileHeld(_ body: () -> Void) {
        realtime.pointee.state[2].store(1, ordering: .releasing)
        waitCycles(2)
        body()
        realtime.pointee.state[2].store(0, ordering: .releasing)
    }

    func cvActive(_ slot: Int) -> Bool { realtime.pointee.cvActive[slot].load(ordering: .acquiring) != 0 }

    /// Waits (up to 1 s) for `count` more cycles; at once when the client is stopped.
    private func waitCycles(_ count: UInt32) {
        guard isActive else { return }
        let start = cycles
        let deadline = ContinuousClock.now + .seconds(1)
        while cycles &- start < count && ContinuousClock.now < deadline { usleep(500) }
    }

    /// `:bypass` moved by a MIDI controller: the audio thread has applied it already.
    func bypassMovedByMIDI(_ value: Float) { bypassValue = value }

    /// Cycles run so far.
    var cycles: UInt32 { realtime.pointee.state[1].load(ordering: .acquiring) }

    /// Control inputs and their current values, for presets.
    var controlValues: [String: Float] {
        var result: [String: Float] = [:]
        for port in plugin.info.controlInputs { result[port.symbol] = value(port.symbol) }
        return result
    }
}

/// A command failed with one of mod-host's codes (its `resp <negative code>` replies).
struct HostFailure: Error, CustomStringConvertible {
    var code: ModHostErrorCode
    var message: String

    init(_ code: ModHostErrorCode, _ message: String) {
        self.code = code
        // Messages quote what clients sent, which may be huge.
        self.message = message.count > 300 ? String(message.prefix(300)) + "…" : message
    }

    var description: String { "\(code.rawValue): \(message)" }
}
