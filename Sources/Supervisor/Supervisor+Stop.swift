#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// Stops the stack in reverse dependency order and ends ``run()`` with ``Outcome/stopped``.
    public func stop() async {
        guard !stopRequested else { return }
        stopRequested = true
        record("stopping the stack")
        await stopAll()
        Leftovers.forget(in: configuration.logDirectory)
        record("stopped")
        finish(.stopped)
    }

    /// SIGKILL to every child's process group at once: the second ^C. Nothing restarts afterwards;
    /// ``stop()`` still ends the run.
    public func killAll() {
        stopping = true
        record("killing every child at once")
        for name in order { units[name]?.child?.signalGroup(SIGKILL) }
    }

    func stopAll() async {
        stopping = true
        phase = .stopping
        changed()
        for name in order.reversed() { await stopUnit(name) }
        phase = nil
        changed()
    }

    /// Stops, last started first, every service that depends on `name`, directly or not; they start
    /// again once `name` is ready (rest_for_one).
    func stopDependents(of name: String) async {
        var affected: Set<String> = [name]
        for candidate in order where candidate != name {  // `order` lists what a service needs before it
            if units[candidate]?.spec.dependencies.contains(where: affected.contains) == true {
                affected.insert(candidate)
            }
        }
        affected.remove(name)
        for dependent in order.reversed() where affected.contains(dependent) {
            record("\(dependent): stopping, since \(name) went down")
            await stopUnit(dependent)
        }
    }

    /// The stop signal to the whole process group (and SIGCONT, so a stopped process can act on it),
    /// then SIGKILL once the stop timeout has passed; returns when the child is reaped.
    func stopUnit(_ name: String) async {
        guard var unit = units[name] else { return }
        let settled: Unit.State = stopping ? .stopped : .waiting
        guard let child = unit.child, child.hasExited == nil else {
            // Not running: a start in flight is abandoned (its generation no longer matches).
            if [.starting, .ready, .backoff, .waiting].contains(unit.state) {
                unit.generation += 1
                unit.state = settled
                units[name] = unit
            }
            return
        }
        unit.state = .stopping
        units[name] = unit
        changed()
        let spec = unit.spec
        record("\(name): sending \(signalName(spec.stopSignal)) to process group \(child.pid)")
        child.signalGroup(spec.stopSignal)
        child.signalGroup(SIGCONT)
        let killer = Task {
            try await Task.sleep(for: spec.stopTimeout)
            self.record("\(name): still running \(spec.stopTimeout) after \(signalName(spec.stopSignal)); SIGKILL")
            child.signalGroup(SIGKILL)
        }
        _ = await child.exitStatus
        killer.cancel()
        if units[name]?.state == .stopping { units[name]?.state = settled }
        changed()
    }
}

extension Supervisor {
    /// An operator's restart: `name` and what depends on it stop and start again; not a failure.
    public func restart(_ name: String) async throws(OperatorError) {
        guard units[name] != nil else { throw OperatorError("no service named '\(name)'") }
        guard !stopping else { throw OperatorError("the stack is stopping") }
        record("\(name): restart requested")
        await stopDependents(of: name)
        await stopUnit(name)
        if units[name]?.state == .backoff || units[name]?.state == .failed { units[name]?.state = .waiting }
        reconcile()
    }

    /// An operator's stop: `name` stays down (and so does what depends on it) until started.
    public func stopService(_ name: String) async throws(OperatorError) {
        guard units[name] != nil else { throw OperatorError("no service named '\(name)'") }
        record("\(name): stop requested")
        await stopDependents(of: name)
        await stopUnit(name)
        units[name]?.generation += 1
        units[name]?.state = .stopped
        units[name]?.message = "stopped by an operator"
        changed()
    }

    /// Starts a service an operator stopped.
    public func startService(_ name: String) throws(OperatorError) {
        guard let unit = units[name] else { throw OperatorError("no service named '\(name)'") }
        guard !stopping else { throw OperatorError("the stack is stopping") }
        guard [.stopped, .failed, .backoff].contains(unit.state) else {
            throw OperatorError("\(name) is \(unit.healthState.rawValue), not stopped")
        }
        record("\(name): start requested")
        units[name]?.state = .waiting
        units[name]?.message = nil
        reconcile()
    }
}

/// An operator's request that cannot be carried out, in words.
public struct OperatorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Supervisor {
    /// Applies new service specs (a re-read config): each service whose spec changed is stopped with
    /// its dependents and started again with the new one; the others are not touched. Services added
    /// or removed need a new supervisor and are only reported. Returns the names restarted.
    @discardableResult
    public func reload(_ services: [ServiceSpec]) async -> [String] {
        let incoming = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        let added = Set(incoming.keys).subtracting(order)
        let removed = Set(order).subtracting(incoming.keys)
        if !added.isEmpty || !removed.isEmpty {
            record(
                "reload: services added (\(added.sorted())) or removed (\(removed.sorted())) take a restart of the supervisor"
            )
        }
        let changed = order.filter { name in incoming[name].map { $0 != units[name]?.spec } ?? false }
        record("reload: \(changed.isEmpty ? "nothing changed" : "restarting " + changed.joined(separator: ", "))")
        for name in changed.reversed() {
            await stopDependents(of: name)
            await stopUnit(name)
        }
        for name in changed {
            guard let spec = incoming[name] else { continue }
            units[name]?.spec = spec
            units[name]?.tracker = RestartTracker(policy: spec.restart)
            if units[name]?.state != .waiting { units[name]?.state = .waiting }
        }
        reconcile()
        return changed
    }

    /// Waits until no service is starting or in backoff: what `READY=1` after a reload waits for.
    public func settled(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let busy = order.contains { [.waiting, .starting, .backoff, .stopping].contains(units[$0]?.state) }
            if !busy { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
