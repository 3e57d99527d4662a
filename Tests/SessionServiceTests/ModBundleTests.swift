import Foundation
import LV2
import Messaging
import SessionService
import Testing

/// Pedalboards as MOD bundles: read with serd as mod-ui writes them, written whole or not at all.
@Suite struct ModBundleTests {
    static let amp = SessionHarness.amp

    /// A bundle in the layout mod-ui writes (written for this test from the format): the swh amp
    /// between the first capture and playback ports, bypassed, gain -6, at canvas (120.5, 40).
    static func writeModUIBundle(
        in folder: String,
        name: String = "Stage_amp.pedalboard",
        title: String = "Stage \"amp\""
    )
        throws -> String
    {
        let bundle = "\(folder)/\(name)"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        let manifest = """
            @prefix ingen: <http://drobilla.net/ns/ingen#> .
            @prefix lv2:   <http://lv2plug.in/ns/lv2core#> .
            @prefix pedal: <http://moddevices.com/ns/modpedal#> .
            @prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .

            <Stage_amp.ttl>
                lv2:prototype ingen:GraphPrototype ;
                a lv2:Plugin , ingen:Graph , pedal:Pedalboard ;
                rdfs:seeAlso <Stage_amp.ttl> .
            """
        let main = """
            @prefix doap:  <http://usefulinc.com/ns/doap#> .
            @prefix ingen: <http://drobilla.net/ns/ingen#> .
            @prefix lv2:   <http://lv2plug.in/ns/lv2core#> .
            @prefix pedal: <http://moddevices.com/ns/modpedal#> .

            _:b1 ingen:tail <capture_1> ; ingen:head <amp_1/input> .
            _:b2 ingen:tail <amp_1/output> ; ingen:head <playback_1> .

            <amp_1>
                ingen:canvasX 120.5 ;
                ingen:canvasY 40.0 ;
                ingen:enabled false ;
                lv2:port <amp_1/gain> , <amp_1/input> , <amp_1/output> , <amp_1/:bypass> ;
                lv2:prototype <\(amp)> ;
                pedal:instanceNumber 7 ;
                pedal:preset <> ;
                a ingen:Block .

            <amp_1/gain> ingen:value -6.000000 ; a lv2:ControlPort , lv2:InputPort .
            <amp_1/:bypass> ingen:value 1 ; a lv2:ControlPort , lv2:InputPort .
            <:bpm> ingen:value 96.000000 ; lv2:index 1 .
            <capture_1> lv2:symbol "capture_1" ; a lv2:AudioPort , lv2:InputPort .
            <playback_1> lv2:symbol "playback_1" ; a lv2:AudioPort , lv2:OutputPort .

            <>
                doap:name "\(title.replacingOccurrences(of: "\"", with: "\\\""))" ;
                pedal:width 800 ;
                pedal:height 600 ;
                ingen:arc _:b1 , _:b2 ;
                ingen:block <amp_1> ;
                lv2:port <capture_1> , <playback_1> , <:bpm> ;
                a lv2:Plugin , ingen:Graph , pedal:Pedalboard .
            """
        let snapshots = """
            {"current": 1, "snapshots": [
              {"name": "Clean", "data": {"amp_1": {"bypassed": false, "parameters": {}, "ports": {"gain": 0.0}, "preset": ""}}},
              {"name": "Loud", "data": {"amp_1": {"bypassed": true, "parameters": {}, "ports": {"gain": 12.0}, "preset": ""}}}
            ]}
            """
        try manifest.write(toFile: "\(bundle)/manifest.ttl", atomically: true, encoding: .utf8)
        try main.write(toFile: "\(bundle)/Stage_amp.ttl", atomically: true, encoding: .utf8)
        try snapshots.write(toFile: "\(bundle)/snapshots.json", atomically: true, encoding: .utf8)
        return bundle
    }

    @Test func readsABundleAsModUIWritesIt() throws {
        let (store, data) = try PedalboardStoreTests.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        _ = try Self.writeModUIBundle(in: store.folder)
        #expect(store.list().pedalboards.map(\.id) == ["Stage_amp.pedalboard"])
        let board = try Pedalboard(json: try store.load(id: "Stage_amp.pedalboard"), fallbackID: "")
        #expect(board.id == "Stage_amp.pedalboard")
        #expect(board.name == "Stage \"amp\"")
        #expect(board.plugins.count == 1)
        let amp = try #require(board.plugins.first)
        #expect(amp.instanceID == "amp_1")
        #expect(amp.uri == Self.amp)
        #expect(amp.parameters == ["gain": -6])
        #expect(!amp.enabled)
        #expect(amp.hostNumber == 7)
        #expect(amp.x == 120.5 && amp.y == 40)
        #expect(amp.preset == nil)
        #expect(
            Set(board.connections.map { "\($0.source) -> \($0.target)" }) == [
                "system:capture_1 -> amp_1:input", "amp_1:output -> system:playback_1",
            ]
        )
        #expect(board.systemInputs == ["system:capture_1"])
        #expect(board.metadata["bpm"] == .double(96))
        #expect(board.metadata["width"] == .int(800))
        #expect(board.snapshots.map(\.name) == ["Clean", "Loud"])
        #expect(board.snapshots[1].pluginStates["amp_1"] == ["gain": 12])
        #expect(board.snapshots[1].enabled["amp_1"] == false)
        #expect(board.currentSnapshotID == board.snapshots[1].id)
    }

    @Test func aBoardSavedAsABundleReadsBackTheSame() throws {
        let (store, data) = try PedalboardStoreTests.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        var board = Pedalboard(id: "x", name: "Line 1\n\"two\" \\ <three> ü")
        board.description = "for the\tsecond set"
        board.plugins = [
            PluginInstance(
                instanceID: "amp",
                uri: Self.amp,
                name: "amp",
                x: 10,
                y: -3.25,
                parameters: ["gain": 3.5],
                enabled: false,
                hostNumber: 2
            )
        ]
        board.connections = [
            Connection(sourcePlugin: "system", sourcePort: "capture_2", targetPlugin: "amp", targetPort: "input"),
            Connection(sourcePlugin: "amp", sourcePort: "output", targetPlugin: "system", targetPort: "playback_1"),
        ]
        board.snapshots = [
            Snapshot(
                id: "s1",
                name: "Soft",
                pedalboardID: "x",
                pluginStates: ["amp": ["gain": -20]],
                enabled: ["amp": true]
            )
        ]
        board.currentSnapshotID = "s1"
        let id = store.newBundleID(title: board.name)
        #expect(id == "Line_1__two_____.pedalboard")
        try store.save(id: id, document: board.json, catalogue: SessionHarness.catalogue)
        let back = try Pedalboard(json: try store.load(id: id), fallbackID: "")
        #expect(back.name == board.name)
        #expect(back.description == board.description)
        #expect(back.plugins.map(\.instanceID) == ["amp"])
        #expect(back.plugins[0].parameters == ["gain": 3.5])
        #expect(back.plugins[0].enabled == false)
        #expect(back.plugins[0].hostNumber == 2)
        #expect(back.plugins[0].x == 10 && back.plugins[0].y == -3.25)
        #expect(
            Set(back.connections.map { "\($0.source) -> \($0.target)" })
                == Set(board.connections.map { "\($0.source) -> \($0.target)" })
        )
        #expect(back.snapshots.map(\.id) == ["s1"])
        #expect(back.snapshots[0].pluginStates["amp"] == ["gain": -20])
        #expect(back.currentSnapshotID == "s1")
        let files = try FileManager.default.contentsOfDirectory(atPath: store.path(id)).sorted()
        #expect(files == ["Line_1__two_____.ttl", "addressings.json", "manifest.ttl", "snapshots.json"])
    }

    /// A power cut in the middle of a save leaves a hidden staging folder beside the old bundle: it
    /// never lists, and the store removes it when it opens.
    @Test func anInterruptedSaveNeverLists() throws {
        let (store, data) = try PedalboardStoreTests.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        _ = try Self.writeModUIBundle(in: store.folder)
        let staging = "\(store.folder)/.Stage_amp.pedalboard.staging-1234-99"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        try "@prefix".write(toFile: "\(staging)/manifest.ttl", atomically: true, encoding: .utf8)
        #expect(store.list().pedalboards.map(\.id) == ["Stage_amp.pedalboard"])
        #expect(store.list().problems.isEmpty)
        let reopened = try PedalboardStore(dataDirectory: data)
        #expect(!FileManager.default.fileExists(atPath: staging))
        #expect(reopened.list().pedalboards.count == 1)
    }

    /// Saving over a bundle swaps it whole: every reader during many saves sees one complete board.
    @Test func readersDuringSavesSeeAWholeBoard() async throws {
        let (store, data) = try PedalboardStoreTests.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let id = "Swap.pedalboard"
        func board(_ gain: Double) -> JSONValue {
            var board = Pedalboard(id: id, name: "Swap")
            board.plugins = [PluginInstance(instanceID: "amp", uri: Self.amp, name: "amp", parameters: ["gain": gain])]
            return board.json
        }
        try store.save(id: id, document: board(0), catalogue: SessionHarness.catalogue)
        let catalogue = SessionHarness.catalogue
        async let writer: Void = {
            for gain in 1...150 { try store.save(id: id, document: board(Double(gain)), catalogue: catalogue) }
        }()
        var reads = 0
        for _ in 0..<300 {
            let listed = store.list()
            #expect(listed.problems.isEmpty)
            #expect(listed.pedalboards.count == 1)
            #expect(listed.pedalboards.first?.document["plugins"]?.arrayValue?.count == 1)
            reads += 1
            await Task.yield()
        }
        try await writer
        #expect(reads == 300)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: store.folder).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
        let last = try Pedalboard(json: try store.load(id: id), fallbackID: "")
        #expect(last.plugins.first?.parameters["gain"] == 150)
    }

    /// Files a manifest names outside its bundle are never read; broken Turtle is a listed problem.
    @Test func aBundleNeverReadsOutsideItself() throws {
        let (store, data) = try PedalboardStoreTests.store()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let outside = "\(data)/secret.ttl"
        try "<> <http://usefulinc.com/ns/doap#name> \"secret\" .".write(
            toFile: outside,
            atomically: true,
            encoding: .utf8
        )
        let bundle = "\(store.folder)/Escape.pedalboard"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        try """
        <../secret.ttl> a <http://moddevices.com/ns/modpedal#Pedalboard> ;
            <http://www.w3.org/2000/01/rdf-schema#seeAlso> <../secret.ttl> .
        """.write(toFile: "\(bundle)/manifest.ttl", atomically: true, encoding: .utf8)
        let broken = "\(store.folder)/Broken.pedalboard"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try "@prefix x: <y> . <a> x:b \"unterminated .".write(
            toFile: "\(broken)/manifest.ttl",
            atomically: true,
            encoding: .utf8
        )
        let listed = store.list()
        #expect(listed.pedalboards.isEmpty)
        #expect(Set(listed.problems.map(\.file)) == ["Escape.pedalboard", "Broken.pedalboard"])
        #expect(throws: RPCError.self) { try store.load(id: "Escape.pedalboard") }
    }
}
