public import Messaging

/// Putting the current pedalboard back into a host that lost it (a crash, a restart of the bridge
/// or the host, a restart of the session itself): same instances, values, bypass states and wires.
extension Session {
    struct ApplyOutcome {
        var pluginsLoaded = 0
        var pluginsAdopted = 0
        var connectionsCreated = 0
        var failures: [JSONValue] = []
    }

    /// Re-applies the current pedalboard and publishes `pedalboard_resynced`.
    public func resync(reason: String) async {
        let outcome: ApplyOutcome? = try? await exclusive {
            guard !state.plugins.isEmpty || !state.connections.isEmpty else { return nil }
            return await applyRig(reconciling: true)
        }
        guard let outcome else { return }
        changed()
        let data: JSONValue = [
            "pedalboard_id": .string(state.storeID ?? state.pedalboard?.id ?? ""), "reason": .string(reason),
            "plugins_loaded": .int(outcome.pluginsLoaded), "plugins_adopted": .int(outcome.pluginsAdopted),
            "connections_created": .int(outcome.connectionsCreated), "failed": .array(outcome.failures),
            "timestamp": .string(Timestamp.now()),
        ]
        lastResync = data
        publish("pedalboard_resynced", data)
    }

    /// Makes the host hold exactly the state's plugins, values, bypass states and wires.
    ///
    /// With `reconciling`, what the bridge still holds is looked at first (`list_instances`): an
    /// instance under one of our host numbers with the same plugin is adopted and given our values
    /// (a restarted session does not interrupt the sound); anything else is unloaded, and our
    /// numbers are cleared in the host (a restarted bridge does not know what its host kept).
    /// Plugins are then loaded in ascending host-number order, so a bridge that hands out the
    /// lowest free number gives each its old one back. Failures are collected, not thrown: one
    /// plugin that no longer loads must not keep the rest silent.
    func applyRig(reconciling: Bool) async -> ApplyOutcome {
        var outcome = ApplyOutcome()
        var plugins = state.plugins
        var hosted: [Int: (id: String, uri: String)] = [:]
        if reconciling {
            hosted = await hostedInstances()
            for (number, entry) in hosted where plugins.first(where: { $0.hostNumber == number })?.uri != entry.uri {
                _ = try? await bridge.plugin("unload_plugin", ["instance_id": .string(entry.id)])
                hosted[number] = nil
            }
            for number in plugins.compactMap(\.hostNumber) where hosted[number] == nil {
                _ = try? await bridge.command("remove", [.int(number)])
            }
        }
        let order = plugins.indices.sorted { (plugins[$0].hostNumber ?? Int.max) < (plugins[$1].hostNumber ?? Int.max) }
        for index in order {
            do {
                if let number = plugins[index].hostNumber, let entry = hosted[number] {
                    try await adopt(plugins[index], bridgeID: entry.id)
                    outcome.pluginsAdopted += 1
                } else {
                    try await load(&plugins[index])
                    outcome.pluginsLoaded += 1
                }
            } catch {
                outcome.failures.append(
                    ["instance_id": .string(plugins[index].instanceID), "error": .string(error.message)]
                )
            }
        }
        state.pedalboard?.plugins = plugins
        for connection in state.connections {
            do {
                try await connectInHost(connection)
                outcome.connectionsCreated += 1
            } catch {
                outcome.failures.append(
                    ["connection_id": .string(connection.connectionID), "error": .string(error.message)]
                )
            }
        }
        return outcome
    }

    /// The bridge's instances by host number; empty when it cannot tell.
    func hostedInstances() async -> [Int: (id: String, uri: String)] {
        guard let reply = try? await bridge.plugin("list_instances") else { return [:] }
        var hosted: [Int: (id: String, uri: String)] = [:]
        for (id, instance) in reply["instances"]?.objectValue ?? [:] {
            guard let number = instance["modhost_instance"]?.intValue ?? instance["instance_number"]?.intValue
            else { continue }
            hosted[number] = (id, instance["uri"]?.stringValue ?? "")
        }
        return hosted
    }

    /// Takes over an instance the host still runs: our values and bypass state are set on it.
    func adopt(_ plugin: PluginInstance, bridgeID: String) async throws(RPCError) {
        bridgeIDs[plugin.instanceID] = bridgeID == plugin.instanceID ? nil : bridgeID
        for (symbol, value) in plugin.parameters.sorted(by: { $0.key < $1.key }) {
            try await bridge.plugin(
                "set_parameter",
                ["instance_id": .string(bridgeID), "parameter": .string(symbol), "value": .double(value)]
            )
        }
        if let number = plugin.hostNumber {
            try await bridge.command("bypass", [.int(number), plugin.enabled ? 0 : 1])
        }
    }
}
