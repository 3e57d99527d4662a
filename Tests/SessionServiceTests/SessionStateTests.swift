import Messaging
import SessionService
import Testing

/// The session's rules with no I/O: instance numbering, wires dropped with their plugin,
/// snapshots, and the v1 documents read and written.
@Suite struct SessionStateTests {
    static func amp(_ id: String, number: Int? = nil) -> PluginInstance {
        PluginInstance(
            instanceID: id,
            uri: "http://plugin.org.uk/swh-plugins/amp",
            name: "Simple amplifier",
            hostNumber: number
        )
    }

    @Test func instanceIDsAndHostNumbersAreTheLowestFree() {
        var state = SessionState()
        #expect(state.freeInstanceID() == "plugin_0")
        #expect(state.freeHostNumber() == 0)
        state.add(Self.amp("plugin_0", number: 0))
        state.add(Self.amp("plugin_2", number: 2))
        #expect(state.freeInstanceID() == "plugin_1")
        #expect(state.freeHostNumber() == 1)
        state.add(Self.amp("restored"))
        state.assignHostNumbers()
        #expect(state.plugins.map(\.hostNumber) == [0, 2, 1])
        #expect(state.pedalboard?.name == "Untitled")
        #expect(state.storeID == nil)
    }

    @Test func removingAPluginDropsItsWires() {
        var state = SessionState()
        state.add(Self.amp("a", number: 0))
        state.add(Self.amp("b", number: 1))
        state.add(
            Connection(
                connectionID: "1",
                sourcePlugin: "system",
                sourcePort: "capture_1",
                targetPlugin: "a",
                targetPort: "input"
            )
        )
        state.add(
            Connection(
                connectionID: "2",
                sourcePlugin: "a",
                sourcePort: "output",
                targetPlugin: "b",
                targetPort: "input"
            )
        )
        state.add(
            Connection(
                connectionID: "3",
                sourcePlugin: "b",
                sourcePort: "output",
                targetPlugin: "system",
                targetPort: "playback_1"
            )
        )
        let dropped = state.remove("a")
        #expect(dropped.map(\.connectionID) == ["1", "2"])
        #expect(state.connections.map(\.connectionID) == ["3"])
        #expect(throws: RPCError.self) { try state.instance("a") }
    }

    @Test func snapshotsCaptureValuesAndBypass() throws {
        var state = SessionState()
        state.add(Self.amp("a", number: 0))
        state.setParameter("a", "gain", 12)
        state.setEnabled("a", false)
        let snapshot = state.capture(id: state.freeSnapshotID(), name: "One")
        #expect(snapshot.id == "1")
        #expect(snapshot.pluginStates == ["a": ["gain": 12]])
        #expect(snapshot.enabled == ["a": false])
        state.store(snapshot)
        #expect(state.freeSnapshotID() == "2")
        #expect(try state.snapshot("1").name == "One")
        #expect(state.pedalboard?.currentSnapshotID == "1")
    }

    /// The whole session written to its file and read back is the same session.
    @Test func sessionDocumentsRoundTrip() throws {
        var state = SessionState()
        state.add(Self.amp("a", number: 7))
        state.setParameter("a", "gain", -3.5)
        state.add(
            Connection(
                connectionID: "w",
                sourcePlugin: "a",
                sourcePort: "output",
                targetPlugin: "system",
                targetPort: "playback_1"
            )
        )
        state.store(state.capture(id: "1", name: "Snap"))
        state.storeID = "board-1"
        let reread = try SessionState(json: try JSONValue(parsing: state.json.serialized()))
        #expect(reread == state)
        #expect(state.json["pedalboard"]?["_schema_version"] == 1)
    }

    @Test func theReferencesPluginEntriesAreRead() throws {
        let document = try JSONValue(
            parsing: """
                {"id": "2c1a99f6-ab13-420a-9096-49368d5e72ac", "name": "Ref", "description": "d",
                 "plugins": [{"uri": "http://plugin.org.uk/swh-plugins/amp", "instance_id": "plugin_0_705a1294",
                              "name": "Simple amplifier", "brand": "", "version": "", "parameters": {"gain": 6.0},
                              "ports": {}, "available_parameters": {}, "x": 10, "y": 20, "enabled": true,
                              "preset": null, "created_at": "2025-10-03T18:48:39.975822"}],
                 "connections": [{"source_plugin": "plugin_0_705a1294", "source_port": "output",
                                  "target_plugin": "system", "target_port": "playback_1", "connection_id": "c"}],
                 "created_at": "2025-10-03T18:48:39.975822", "modified_at": "2025-10-03T18:48:39.976595",
                 "metadata": {"saved_at": "2025-10-03T18:48:39.977069"},
                 "system_inputs": ["system:capture_1"], "system_outputs": ["system:playback_1"],
                 "_schema_version": 1, "future_key": [1]}
                """
        )
        let board = try Pedalboard(json: document, fallbackID: "x")
        #expect(board.plugins.first?.parameters == ["gain": 6])
        #expect(board.plugins.first?.x == 10)
        #expect(board.plugins.first?.hostNumber == nil)
        #expect(board.connections.first?.target == "system:playback_1")
        #expect(board.systemInputs == ["system:capture_1"])
        // What this writer does not know is kept, not dropped.
        #expect(board.json["future_key"] == [1])
    }

    @Test(arguments: [
        #"[1]"#, #"{"plugins": []}"#, #"{"name": "x", "plugins": {"a": 1}}"#,
        #"{"name": "x", "plugins": [{"instance_id": "a"}]}"#,
        #"{"name": "x", "connections": [{"source_plugin": "a"}]}"#,
        #"{"name": "x", "_schema_version": 2}"#,
        #"{"name": "x", "plugins": [{"uri": "u", "instance_id": "a"}, {"uri": "u", "instance_id": "a"}]}"#,
    ])
    func badDocumentsAreRefusedWhole(_ text: String) throws {
        let document = try JSONValue(parsing: text)
        let error = #expect(throws: RPCError.self) { try Pedalboard(json: document, fallbackID: "x") }
        #expect(error?.code == .storageError)
    }
}
