/// Knob turns, one lane per parameter: one change at a time goes to the bridge, and while it is in
/// flight later ones wait; only the latest of them is sent next, so a knob sweep coalesces as in
/// mod-ui. Every caller is still answered: the superseded ones with the outcome of the change that
/// replaced theirs. Lanes of different parameters run side by side.
///
/// Pure state: the session owns the callers and resumes the ones it is handed.
struct ParameterLanes<Caller> {
    struct Key: Hashable, Sendable {
        var instanceID: String
        var symbol: String
    }

    /// The change a lane sends next: the latest caller's, with the callers it replaced.
    struct Next {
        var value: Double
        var caller: Caller
        var superseded: [Caller]
    }

    /// A key is present while its lane is taken; its value is the change waiting behind it.
    private var lanes: [Key: Next?] = [:]

    var busyCount: Int { lanes.count }

    /// Takes the lane when it is free: `true` means send now, `false` means ``wait(_:value:caller:)``.
    mutating func claim(_ key: Key) -> Bool {
        guard lanes[key] == nil else { return false }
        lanes[key] = .some(nil)
        return true
    }

    /// Queues behind the change in flight, replacing whatever waited there before.
    mutating func wait(_ key: Key, value: Double, caller: Caller) {
        precondition(lanes[key] != nil, "wait on a free lane; claim it instead")
        var superseded: [Caller] = []
        if let waiting = lanes[key] ?? nil {
            superseded = waiting.superseded + [waiting.caller]
        }
        lanes[key] = Next(value: value, caller: caller, superseded: superseded)
    }

    /// The change in flight is done: the next to send (the lane stays taken for it), or `nil` when
    /// nothing waits and the lane is free.
    mutating func release(_ key: Key) -> Next? {
        guard let waiting = lanes[key] ?? nil else {
            lanes[key] = nil
            return nil
        }
        lanes[key] = .some(nil)
        return waiting
    }
}
