public import LV2
public import Messaging

/// Wires between plugin ports and the audio interface, made in the host by their JACK names.
extension Session {
    /// Connects an output to an input. Ends are checked against the catalogue (a plugin's real port
    /// symbols and directions, or a `system` port) before the bridge is called; connecting an
    /// existing wire again returns it.
    public func createConnection(
        sourcePlugin: String,
        sourcePort: String,
        targetPlugin: String,
        targetPort: String
    ) async throws -> JSONValue {
        try checkEnd(sourcePlugin, sourcePort, direction: .output)
        try checkEnd(targetPlugin, targetPort, direction: .input)
        let candidate = Connection(
            sourcePlugin: sourcePlugin,
            sourcePort: sourcePort,
            targetPlugin: targetPlugin,
            targetPort: targetPort
        )
        return try await exclusive {
            if let existing = state.connection(joining: candidate) {
                return ["connection_id": .string(existing.connectionID), "connection": existing.json]
            }
            try await connectInHost(candidate)
            state.add(candidate)
            changed()
            publish(
                "connection_created",
                [
                    "connection_id": .string(candidate.connectionID), "source": .string(candidate.source),
                    "target": .string(candidate.target),
                ]
            )
            publishChange("connection_created")
            return ["connection_id": .string(candidate.connectionID), "connection": candidate.json]
        }
    }

    func connectInHost(_ connection: Connection) async throws(RPCError) {
        try await bridge.command(
            "connect",
            [
                .string(try jackName(plugin: connection.sourcePlugin, port: connection.sourcePort)),
                .string(try jackName(plugin: connection.targetPlugin, port: connection.targetPort)),
            ]
        )
    }

    /// Removes a wire, named by its id or by its ends.
    public func removeConnection(id: String?, ends: (String, String, String, String)?) async throws -> JSONValue {
        try await exclusive {
            let found: Connection?
            if let id {
                found = state.connections.first { $0.connectionID == id }
            } else if let ends {
                found = state.connection(
                    joining: Connection(
                        sourcePlugin: ends.0,
                        sourcePort: ends.1,
                        targetPlugin: ends.2,
                        targetPort: ends.3
                    )
                )
            } else {
                throw RPCError(.invalidParameters, "Missing 'connection_id' or the connection's ends")
            }
            guard let connection = found else { throw RPCError(.notFound, "Connection not found") }
            do {
                try await bridge.command(
                    "disconnect",
                    [
                        .string(try jackName(plugin: connection.sourcePlugin, port: connection.sourcePort)),
                        .string(try jackName(plugin: connection.targetPlugin, port: connection.targetPort)),
                    ]
                )
            } catch {
                // The host no longer having the wire (it restarted) is no reason to keep it here.
                guard bridgeAnswers else { throw error }
            }
            state.removeConnection(connection.connectionID)
            changed()
            publish("connection_removed", ["connection_id": .string(connection.connectionID)])
            publishChange("connection_removed")
            return ["connection_id": .string(connection.connectionID)]
        }
    }

    public func connectionList() -> JSONValue {
        ["connections": .array(state.connections.map(\.json)), "count": .int(state.connections.count)]
    }

    /// A wire's end: `system` with a plain port name, or an instance's signal port facing `direction`.
    func checkEnd(_ plugin: String, _ port: String, direction: PortInfo.Direction) throws(RPCError) {
        guard plugin == Connection.system else {
            try PedalboardStore.validate(id: plugin)
            let instance = try state.instance(plugin)
            _ = try catalogue.require(uri: instance.uri).checkedPort(port, direction: direction)
            return
        }
        guard (try? PedalboardStore.validate(id: port)) != nil else {
            throw RPCError(.invalidParameters, "Invalid system port name '\(port.prefix(64))'")
        }
    }

    /// A full JACK port name as the web client sends it (`client:port`): no NUL, no control bytes.
    static func checkJackPort(_ name: String) throws(RPCError) {
        guard name.utf8.count <= 320, name.contains(":"), !name.hasPrefix(":"), !name.hasSuffix(":"),
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw RPCError(.invalidParameters, "Invalid JACK port name (expected client:port)")
        }
    }
}
