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

    /// SIGKILL to every child's process group at once: the second ^C. ``stop()`` still ends the run.
    public func killAll() {
        stopping = true
        record("killing every child at once")
        for name in order { units[name]?.child?.signalGroup(SIGKILL) }
    }

    /// The audio path failed past its limit: the stack goes down and the run ends non-zero, so
    /// systemd restarts the supervisor (and with it the board).
    func giveUp(_ name: String, reason: String) async {
        guard !stopRequested else { return }
        stopRequested = true
        record("giving up on \(name): \(reason); stopping the stack")
        await stopAll()
        finish(.gaveUp(service: name, reason: reason))
    }

    /// Each service, last started first, is told to stop and awaited until its process is gone.
    func stopAll() async {
        stopping = true
        phase = .stopping
        changed()
        for name in order.reversed() {
            feed(name, .stackStop)
            guard let unit = units[name], let child = unit.child else { continue }
            guard let status = try? await child.exitStatus else { continue }
            exited(name, generation: unit.machine.generation, child: child, status: status)
        }
        phase = nil
        changed()
    }
}

extension Supervisor {
    /// An operator's restart: `name` stops and starts again, and what depends on it follows; not a
    /// failure, and its restart count starts over.
    public func restart(_ name: String) throws(OperatorError) {
        guard units[name] != nil else { throw OperatorError("no service named '\(name)'") }
        guard !stopping else { throw OperatorError("the stack is stopping") }
        feed(name, .operatorRestart)
    }

    /// An operator's stop: `name` stays down (and so does what depends on it) until started.
    public func stopService(_ name: String) throws(OperatorError) {
        guard units[name] != nil else { throw OperatorError("no service named '\(name)'") }
        record("\(name): stop requested")
        feed(name, .operatorStop)
    }

    /// Starts a service an operator stopped (or one that failed).
    public func startService(_ name: String) throws(OperatorError) {
        guard let unit = units[name] else { throw OperatorError("no service named '\(name)'") }
        guard !stopping else { throw OperatorError("the stack is stopping") }
        guard [.stopped, .failed, .backoff].contains(unit.machine.state) else {
            throw OperatorError("\(name) is \(unit.machine.health.rawValue), not stopped")
        }
        record("\(name): start requested")
        feed(name, .operatorStart)
    }
}

/// An operator's request that cannot be carried out, in words.
public struct OperatorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension Supervisor {
    /// Applies new service specs (a re-read config): each service whose spec changed restarts with
    /// the new one (and what depends on it follows); the others are not touched. Services added or
    /// removed need a new supervisor and are only reported. Returns the names restarted.
    @discardableResult
    public func reload(_ services: [ServiceSpec]) -> [String] {
        let incoming = Dictionary(services.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        let added = Set(incoming.keys).subtracting(order)
        let removed = Set(order).subtracting(incoming.keys)
        if !added.isEmpty || !removed.isEmpty {
            record(
                "reload: services added (\(added.sorted())) or removed (\(removed.sorted())) take a restart of the supervisor"
            )
        }
        let changed = order.filter { name in incoming[name].map { $0 != units[name]?.machine.spec } ?? false }
        record("reload: \(changed.isEmpty ? "nothing changed" : "restarting " + changed.joined(separator: ", "))")
        for name in changed {
            guard let spec = incoming[name] else { continue }
            feed(name, .respecified(spec))
        }
        return changed
    }
}
