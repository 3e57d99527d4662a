import Foundation
public import LV2
public import Messaging

/// A pedalboard as MOD devices and mod-ui keep it: a folder `<name>.pedalboard/` holding
/// `manifest.ttl` (which names the main file), `<symbol>.ttl` (an Ingen graph: a block per plugin,
/// its port values, arcs for the wires, the hardware ports), `snapshots.json` and
/// `addressings.json`.
///
/// Turtle is read with serd (``TurtleGraph``), never by matching text; it is written here, with
/// every string and IRI escaped.
public enum ModBundle {
    public static let suffix = ".pedalboard"

    static let ingen = "http://drobilla.net/ns/ingen#"
    static let lv2 = "http://lv2plug.in/ns/lv2core#"
    static let pedal = "http://moddevices.com/ns/modpedal#"
    static let rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    static let rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    static let doap = "http://usefulinc.com/ns/doap#"

    // MARK: Reading

    /// Reads the bundle at `path` into a pedalboard whose id is `id`. Every file it reads is inside
    /// the bundle; a bundle that is not a pedalboard, or names files outside itself, is refused.
    public static func read(_ path: String, id: String) throws(RPCError) -> Pedalboard {
        let folder = path
        guard kind(of: folder) == .typeDirectory else { throw RPCError(.storageError, "\(id) is not a folder") }
        let bundleURI = TurtleGraph.fileURI(folder + "/")
        var graph = TurtleGraph()
        try requireFile(folder + "/manifest.ttl", id: id)
        do {
            try graph.read(file: folder + "/manifest.ttl")
        } catch {
            throw RPCError(.storageError, "\(id): manifest.ttl: \(error.reason)")
        }
        guard
            let main = graph.subjects(rdf + "type", .uri(pedal + "Pedalboard")).first(where: {
                $0.kind == .uri && $0.text.hasPrefix(bundleURI)
            })
        else { throw RPCError(.storageError, "\(id): manifest.ttl names no pedal:Pedalboard in the bundle") }
        var files = graph.objects(main, rdfs + "seeAlso").filter { $0.kind == .uri }.map(\.text)
        if files.isEmpty { files = [main.text] }
        for file in files {
            guard let relative = relativePath(file, under: bundleURI), !relative.contains("/") else {
                throw RPCError(.storageError, "\(id): manifest.ttl names a file outside the bundle")
            }
            try requireFile(folder + "/" + relative, id: id)
            do {
                try graph.read(file: folder + "/" + relative)
            } catch {
                throw RPCError(.storageError, "\(id): \(relative): \(error.reason)")
            }
        }
        var board = Pedalboard(id: id, name: graph.object(main, doap + "name")?.text ?? "Untitled")
        board.description = graph.object(main, rdfs + "comment")?.text ?? ""
        board.plugins = try plugins(of: main, in: graph, bundleURI: bundleURI, id: id)
        board.connections = graph.objects(main, ingen + "arc").compactMap { arc in
            guard let tail = graph.object(arc, ingen + "tail"), let head = graph.object(arc, ingen + "head"),
                let source = relativePath(tail.text, under: bundleURI).map(end),
                let target = relativePath(head.text, under: bundleURI).map(end)
            else { return nil }
            return Connection(
                sourcePlugin: source.0,
                sourcePort: source.1,
                targetPlugin: target.0,
                targetPort: target.1
            )
        }
        let hardware = graph.objects(main, lv2 + "port").compactMap { relativePath($0.text, under: bundleURI) }
        let inputs = hardware.filter { $0.hasPrefix("capture_") }.sorted().map { "system:\($0)" }
        let outputs = hardware.filter { $0.hasPrefix("playback_") }.sorted().map { "system:\($0)" }
        if !inputs.isEmpty { board.systemInputs = inputs }
        if !outputs.isEmpty { board.systemOutputs = outputs }
        for (symbol, key) in [(":bpm", "bpm"), (":bpb", "bpb")] {
            if let value = graph.object(.uri(bundleURI + symbol), ingen + "value")?.number {
                board.metadata[key] = .double(value)
            }
        }
        for key in ["width", "height"] {
            if let value = graph.object(main, pedal + key)?.number { board.metadata[key] = .int(Int(value)) }
        }
        try readSnapshots(folder + "/snapshots.json", into: &board)
        let patch = folder + "/patch.json"
        if kind(of: patch) != nil {
            try requireFile(patch, id: id)
            let values = try DurableFile.read(patch)
            for index in board.plugins.indices {
                let stored = values?[board.plugins[index].instanceID]?.objectValue ?? [:]
                board.plugins[index].patch = stored.compactMapValues(\.stringValue)
            }
        }
        let addressings = folder + "/addressings.json"
        if kind(of: addressings) != nil {
            try requireFile(addressings, id: id)
            board.addressings = Addressings(json: try DurableFile.read(addressings))
            // Bindings of plugins the graph does not hold are a foreign writer's leftovers.
            let instances = Set(board.plugins.map(\.instanceID))
            board.addressings.bindings.removeAll { !instances.contains($0.instanceID) }
        }
        return board
    }

    /// What is at `path` itself (a link is a link, not what it points to).
    private static func kind(of path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    /// A bundle's files are plain files: a link could lead the reader anywhere on the machine.
    private static func requireFile(_ path: String, id: String) throws(RPCError) {
        guard kind(of: path) == .typeRegular else {
            throw RPCError(.storageError, "\(id): \((path as NSString).lastPathComponent) is not a plain file")
        }
    }

    private static func plugins(
        of main: RDFNode,
        in graph: TurtleGraph,
        bundleURI: String,
        id: String
    ) throws(RPCError) -> [PluginInstance] {
        var plugins: [PluginInstance] = []
        for block in graph.objects(main, ingen + "block") {
            guard let instance = relativePath(block.text, under: bundleURI),
                let uri = graph.object(block, lv2 + "prototype"), uri.kind == .uri
            else { continue }
            guard (try? PedalboardStore.validate(id: instance)) != nil else {
                throw RPCError(.storageError, "\(id): block '\(instance)' is not a valid instance name")
            }
            var plugin = PluginInstance(instanceID: instance, uri: uri.text, name: instance)
            plugin.x = graph.object(block, ingen + "canvasX")?.number ?? 0
            plugin.y = graph.object(block, ingen + "canvasY")?.number ?? 0
            plugin.enabled = (graph.object(block, ingen + "enabled")?.number ?? 1) != 0
            plugin.hostNumber = graph.object(block, pedal + "instanceNumber")?.number.map { Int($0) }
            if let preset = graph.object(block, pedal + "preset"), preset.kind == .uri, preset != main,
                !preset.text.isEmpty, !preset.text.hasPrefix(bundleURI)
            {
                plugin.preset = preset.text
            }
            for port in graph.objects(block, lv2 + "port") {
                guard let path = relativePath(port.text, under: bundleURI), path.hasPrefix(instance + "/"),
                    let value = graph.object(port, ingen + "value")?.number
                else { continue }
                let symbol = String(path.dropFirst(instance.count + 1))
                // `:bypass`, `:presets` and the like are the host's own ports, not the plugin's.
                if !symbol.hasPrefix(":") { plugin.parameters[symbol] = value }
            }
            plugins.append(plugin)
        }
        return plugins
    }

    /// `instance/port` → (instance, port); a hardware port `capture_1` → (system, capture_1).
    private static func end(_ path: String) -> (String, String) {
        guard let slash = path.firstIndex(of: "/") else { return (Connection.system, path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    /// `uri` as a path below `base` (percent-escapes decoded); `nil` when it is not below it.
    static func relativePath(_ uri: String, under base: String) -> String? {
        guard uri.hasPrefix(base), uri.count > base.count else { return nil }
        guard let path = String(uri.dropFirst(base.count)).removingPercentEncoding,
            !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." })
        else { return nil }
        return path
    }

    private static func readSnapshots(_ path: String, into board: inout Pedalboard) throws(RPCError) {
        guard kind(of: path) != nil else { return }
        try requireFile(path, id: board.id)
        guard let document = try DurableFile.read(path) else { return }
        let entries = document["snapshots"]?.arrayValue ?? []
        board.snapshots = entries.enumerated().compactMap { index, entry in
            guard let data = entry["data"]?.objectValue else { return nil }
            var states: [String: [String: Double]] = [:]
            var enabled: [String: Bool] = [:]
            for (instance, values) in data {
                var state: [String: Double] = [:]
                for source in ["ports", "parameters"] {
                    for (symbol, value) in values[source]?.objectValue ?? [:] {
                        if let number = value.doubleValue ?? value["value"]?.doubleValue { state[symbol] = number }
                    }
                }
                states[instance] = state
                enabled[instance] = !(values["bypassed"]?.boolValue ?? false)
            }
            return Snapshot(
                id: entry["id"]?.stringValue ?? String(index),
                name: entry["name"]?.stringValue ?? "Snapshot \(index + 1)",
                pedalboardID: board.id,
                pluginStates: states,
                enabled: enabled
            )
        }
        if let current = document["current"]?.intValue, board.snapshots.indices.contains(current) {
            board.currentSnapshotID = board.snapshots[current].id
        }
    }

    // MARK: Writing

    /// The files of `board`'s bundle, named as mod-ui names them; the main file after `symbol`.
    /// Port lists and defaults come from `catalogue`; a plugin it lacks keeps its stored values.
    public static func files(
        for board: Pedalboard,
        symbol: String,
        catalogue: PluginCatalogue
    ) -> [(name: String, bytes: [UInt8])] {
        let manifest = """
            @prefix ingen: <\(ingen)> .
            @prefix lv2:   <\(lv2)> .
            @prefix pedal: <\(pedal)> .
            @prefix rdfs:  <\(rdfs)> .

            <\(symbol).ttl>
                lv2:prototype ingen:GraphPrototype ;
                a lv2:Plugin ,
                    ingen:Graph ,
                    pedal:Pedalboard ;
                rdfs:seeAlso <\(symbol).ttl> .

            """
        return [
            ("manifest.ttl", Array(manifest.utf8)),
            ("\(symbol).ttl", Array(graph(board, catalogue: catalogue).utf8)),
            ("snapshots.json", json(snapshots(board))),
            ("addressings.json", json(board.addressings.json)),
        ] + patchFile(board)
    }

    /// `patch.json`: each instance's patch parameter values (files, strings), which mod-ui keeps in
    /// plugin state; ours are plain values, so a file of their own. Absent when there are none.
    private static func patchFile(_ board: Pedalboard) -> [(name: String, bytes: [UInt8])] {
        var values: [String: JSONValue] = [:]
        for plugin in board.plugins where !plugin.patch.isEmpty {
            values[plugin.instanceID] = .object(plugin.patch.mapValues { .string($0) })
        }
        return values.isEmpty ? [] : [("patch.json", json(.object(values)))]
    }

    private static func json(_ value: JSONValue) -> [UInt8] {
        var bytes = Array(value.serialized(sortedKeys: true))
        bytes.append(0x0A)
        return bytes
    }

    private static func snapshots(_ board: Pedalboard) -> JSONValue {
        let current = board.currentSnapshotID.flatMap(board.snapshotIndex) ?? -1
        return [
            "current": .int(current),
            "snapshots": .array(
                board.snapshots.map { snapshot in
                    var data: [String: JSONValue] = [:]
                    for plugin in board.plugins {
                        let values = snapshot.pluginStates[plugin.instanceID] ?? plugin.parameters
                        data[plugin.instanceID] = [
                            "bypassed": .bool(!(snapshot.enabled[plugin.instanceID] ?? plugin.enabled)),
                            "parameters": [:], "ports": .object(values.mapValues { .double($0) }),
                            "preset": .string(plugin.preset ?? ""),
                        ]
                    }
                    return ["id": .string(snapshot.id), "name": .string(snapshot.name), "data": .object(data)]
                }
            ),
        ]
    }

    /// The Ingen graph of `board`, in mod-ui's layout.
    static func graph(_ board: Pedalboard, catalogue: PluginCatalogue) -> String {
        var text = """
            @prefix atom:  <http://lv2plug.in/ns/ext/atom#> .
            @prefix doap:  <\(doap)> .
            @prefix ingen: <\(ingen)> .
            @prefix lv2:   <\(lv2)> .
            @prefix midi:  <http://lv2plug.in/ns/ext/midi#> .
            @prefix mod:   <http://moddevices.com/ns/mod#> .
            @prefix pedal: <\(pedal)> .
            @prefix rdfs:  <\(rdfs)> .

            """
        let wires = board.connections.map { wire in
            (
                wire.sourcePlugin == Connection.system ? wire.sourcePort : "\(wire.sourcePlugin)/\(wire.sourcePort)",
                wire.targetPlugin == Connection.system ? wire.targetPort : "\(wire.targetPlugin)/\(wire.targetPort)"
            )
        }
        for (index, wire) in wires.enumerated() {
            text += "\n_:b\(index + 1)\n    ingen:tail <\(iri(wire.0))> ;\n    ingen:head <\(iri(wire.1))> .\n"
        }
        for plugin in board.plugins {
            text += block(plugin, info: catalogue.plugin(uri: plugin.uri))
        }
        let bpb = board.metadata["bpb"]?.doubleValue ?? 4
        let bpm = board.metadata["bpm"]?.doubleValue ?? 120
        text +=
            "\n<:bpb>\n    ingen:value \(number(bpb)) ;\n    lv2:index 0 ;\n    a lv2:ControlPort ,\n        lv2:InputPort .\n"
        text +=
            "\n<:bpm>\n    ingen:value \(number(bpm)) ;\n    lv2:index 1 ;\n    a lv2:ControlPort ,\n        lv2:InputPort .\n"
        let hardware =
            board.systemInputs.map { ($0, "lv2:AudioPort", "lv2:InputPort") }
            + board.systemOutputs.map { ($0, "lv2:AudioPort", "lv2:OutputPort") }
        var symbols: [String] = [":bpb", ":bpm"]
        for (index, (port, kind, direction)) in hardware.enumerated() {
            let symbol = port.hasPrefix("system:") ? String(port.dropFirst("system:".count)) : port
            symbols.append(symbol)
            text += """

                <\(iri(symbol))>
                    lv2:index \(index + 2) ;
                    lv2:name \(literal(symbol.replacingOccurrences(of: "_", with: " ").capitalized)) ;
                    lv2:portProperty lv2:connectionOptional ;
                    lv2:symbol \(literal(symbol)) ;
                    a \(kind) ,
                        \(direction) .

                """
        }
        text += "\n<>\n    doap:name \(literal(board.name)) ;\n"
        if !board.description.isEmpty { text += "    rdfs:comment \(literal(board.description)) ;\n" }
        text += "    pedal:width \(board.metadata["width"]?.intValue ?? 0) ;\n"
        text += "    pedal:height \(board.metadata["height"]?.intValue ?? 0) ;\n"
        text += "    pedal:addressings <addressings.json> ;\n    ingen:polyphony 1 ;\n"
        if !wires.isEmpty {
            text += "    ingen:arc " + wires.indices.map { "_:b\($0 + 1)" }.joined(separator: " ,\n        ") + " ;\n"
        }
        if !board.plugins.isEmpty {
            text +=
                "    ingen:block " + board.plugins.map { "<\(iri($0.instanceID))>" }.joined(separator: " ,\n        ")
                + " ;\n"
        }
        text += "    lv2:port " + symbols.map { "<\(iri($0))>" }.joined(separator: " ,\n        ") + " ;\n"
        text +=
            "    lv2:prototype ingen:GraphPrototype ;\n    a lv2:Plugin ,\n        ingen:Graph ,\n        pedal:Pedalboard .\n"
        return text
    }

    private static func block(_ plugin: PluginInstance, info: PluginInfo?) -> String {
        let instance = iri(plugin.instanceID)
        let ports = info?.ports ?? []
        var values = plugin.parameters
        for port in ports where port.kind == .control && port.direction == .input && values[port.symbol] == nil {
            if let value = port.defaultValue { values[port.symbol] = value }
        }
        let version = (info?.version ?? "0.0").split(separator: ".").compactMap { Int($0) }
        let portNames =
            (ports.map(\.symbol) + values.keys.filter { symbol in !ports.contains { $0.symbol == symbol } })
            .map { "<\(instance)/\(iri($0))>" } + ["<\(instance)/:bypass>"]
        var text = """

            <\(instance)>
                ingen:canvasX \(number(plugin.x)) ;
                ingen:canvasY \(number(plugin.y)) ;
                ingen:enabled \(plugin.enabled) ;
                ingen:polyphonic false ;
                lv2:microVersion \(version.count > 1 ? version[1] : 0) ;
                lv2:minorVersion \(version.first ?? 0) ;
                lv2:port \(portNames.joined(separator: " ,\n        ")) ;
                lv2:prototype <\(iri(plugin.uri))> ;

            """
        if let number = plugin.hostNumber { text += "    pedal:instanceNumber \(number) ;\n" }
        text += "    pedal:preset <\(iri(plugin.preset ?? ""))> ;\n    a ingen:Block .\n"
        for symbol in values.keys.sorted() {
            text += "\n<\(instance)/\(iri(symbol))>\n    ingen:value \(number(values[symbol] ?? 0)) ;\n"
            text += "    a lv2:ControlPort ,\n        lv2:InputPort .\n"
        }
        text += "\n<\(instance)/:bypass>\n    ingen:value \(plugin.enabled ? 0 : 1) ;\n"
        text += "    a lv2:ControlPort ,\n        lv2:InputPort .\n"
        return text
    }

    /// A Turtle number: finite values only (a NaN would make the file unreadable).
    static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "0.0" }

    /// A Turtle string literal, every character that could end or bend it escaped.
    static func literal(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// An IRI's text with the characters Turtle forbids inside `<…>` escaped.
    static func iri(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value <= 0x20 || "<>\"{}|^`\\".unicodeScalars.contains(scalar) {
                out += String(format: "\\u%04X", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// mod-ui's folder names: the title's letters, digits and `_`, at most 16.
    public static func symbol(for title: String) -> String {
        let characters = title.unicodeScalars.prefix(64).map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar)) ? Character(scalar) : "_"
        }
        let symbol = String(String(characters).prefix(16))
        return symbol.isEmpty || symbol.allSatisfy({ $0 == "_" }) ? "pedalboard" : symbol
    }
}
