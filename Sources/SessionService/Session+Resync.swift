public import Messaging

/// Putting the current pedalboard back into a host that lost it (a crash, a restart of the bridge
/// or the host): same instance ids and numbers, values, bypass states and wires.
extension Session {
    struct ApplyOutcome {
        var pluginsLoaded = 0
        var connectionsCreated = 0
        var failures: [JSONValue] = []
    }

    /// Re-applies the current pedalboard and publishes `pedalboard_resynced`.
    public func resync(reason: String) async {
        let outcome: ApplyOutcome? = try? await exclusive {
            guard !state.plugins.isEmpty || !state.connections.isEmpty else { return nil }
            return await applyRig(removingFirst: true)
        }
        guard let outcome else { return }
        changed()
        let data: JSONValue = [
            "pedalboard_id": .string(state.storeID ?? state.pedalboard?.id ?? ""), "reason": .string(reason),
            "plugins_loaded": .int(outcome.pluginsLoaded), "connections_created": .int(outcome.connectionsCreated),
            "failed": .array(outcome.failures), "timestamp": .string(Timestamp.now()),
        ]
        lastResync = data
        publish("pedalboard_resynced", data)
    }

    /// Loads every plugin of the state into the host, then every wire. With `removingFirst`, each
    /// host number is cleared first: a bridge that restarted while its host kept running would
    /// otherwise find the number taken. Failures are collected, not thrown: one plugin that no
    /// longer loads must not keep the rest silent.
    func applyRig(removingFirst: Bool) async -> ApplyOutcome {
        var outcome = ApplyOutcome()
        var plugins = state.plugins
        for index in plugins.indices {
            if removingFirst, let number = plugins[index].hostNumber {
                _ = try? await bridge.command("remove", [.int(number)])
            }
            do {
                try await load(&plugins[index])
                outcome.pluginsLoaded += 1
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
                outcome.failures.append([
                    "connection_id": .string(connection.connectionID), "error": .string(error.message),
                ])
            }
        }
        return outcome
    }
}
