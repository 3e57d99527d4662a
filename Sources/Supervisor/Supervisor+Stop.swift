#if canImport(Glibc)
import Glibc
#endif

extension Supervisor {
    /// Stops the stack in reverse dependency order and ends ``run()`` with ``Outcome/stopped``.
    public func stop() async {
        guard !stopping else { return }
        record("stopping the stack")
        await stopAll()
        record("stopped")
        finish(.stopped)
    }

    /// SIGKILL to every child's process group at once: the second ^C.
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
        for candidate in order where candidate != name {
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
