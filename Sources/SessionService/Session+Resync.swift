import Messaging

/// Putting the current pedalboard back into a host that lost it (a crash, a restart of the bridge
/// or the host, a restart of the session itself): same instances, values, bypass states and wires.
extension Session {
    struct ApplyOutcome {
        var pluginsLoaded = 0
        var pluginsAdopted = 0
        var connectionsCreated = 0
        var failures: [JSONValue] = []
        /// Bindings and transport settings the host refused: reported, but the board still plays.
        var settingFailures: [JSONValue] = []
    }

    /// Re-applies the current pedalboard and publishes `pedalboard_resynced`; returns whether every
    /// plugin and wire is back in the host (an empty board is back at once).
    @discardableResult
    public func resync(reason: String) async -> Bool {
        // Our bridge answers JACK getters only once its JACK client is open (the reference never
        // asked): open it whenever the bridge (re)appears, before the rig goes back in.
        _ = try? await bridge.audio("init_jack")
        let outcome: ApplyOutcome? = try? await exclusive {
            guard !state.plugins.isEmpty || !state.connections.isEmpty else { return nil }
            return await applyRig(reconciling: true)
        }
        guard let outcome else { return true }
        changed()
        let data: JSONValue = [
            "pedalboard_id": .string(state.storeID ?? state.pedalboard?.id ?? ""), "reason": .string(reason),
            "plugins_loaded": .int(outcome.pluginsLoaded), "plugins_adopted": .int(outcome.pluginsAdopted),
            "connections_created": .int(outcome.connectionsCreated), "failed": .array(outcome.failures),
            "settings_failed": .array(outcome.settingFailures),
            "timestamp": .string(Timestamp.now()),
        ]
        lastResync = data
        publish("pedalboard_resynced", data)
        return outcome.failures.isEmpty
    }

    /// Makes the host hold exactly the state's plugins, values, bypass states and wires, as
    /// ``ResyncPlan`` decides (with `reconciling`, after looking at what the bridge still holds).
    /// Failures are collected, not thrown: one plugin that no longer loads must not keep the rest
    /// silent.
    func applyRig(reconciling: Bool) async -> ApplyOutcome {
        var outcome = ApplyOutcome()
        var plugins = state.plugins
        let plan = ResyncPlan(plugins: plugins, hosted: reconciling ? await hostedInstances() : nil)
        for bridgeID in plan.unload {
            _ = try? await bridge.plugin("unload_plugin", ["instance_id": .string(bridgeID)])
        }
        for step in plan.steps {
            let instanceID: String
            switch step {
            case .adopt(let id, _), .load(let id): instanceID = id
            }
            guard let index = plugins.firstIndex(where: { $0.instanceID == instanceID }) else { continue }
            do {
                switch step {
                case .adopt(_, let bridgeID):
                    try await adopt(plugins[index], bridgeID: bridgeID)
                    outcome.pluginsAdopted += 1
                case .load:
                    if try await load(&plugins[index], adopting: reconciling) {
                        outcome.pluginsAdopted += 1
                        continue
                    }
                    outcome.pluginsLoaded += 1
                    // A pedalboard being loaded announces its plugins as load_plugin does; a re-sync
                    // puts back plugins clients already know of, and says so once, when done.
                    if !reconciling {
                        publish(
                            "plugin_loaded",
                            [
                                "instance_id": .string(instanceID), "uri": .string(plugins[index].uri),
                                "name": .string(plugins[index].name),
                            ]
                        )
                    }
                }
            } catch {
                outcome.failures.append(["instance_id": .string(instanceID), "error": .string(error.message)])
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
        if reconciling { forgetMeters() }
        outcome.settingFailures =
            await applyPatchParameters() + applyAddressings() + applyTransport() + applyMIDIDevices()
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
