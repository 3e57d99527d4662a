import CLilv

/// A loaded lilv world: every bundle on `LV2_PATH`, read once.
///
/// lilv worlds are not thread-safe: one owner uses it from one thread (or under one lock) for
/// its whole life. The catalogue reader makes and drops its own; the audio host keeps one.
public final class LV2World {
    let world: OpaquePointer
    let nodes: Nodes
    let modguiNodes: ModGUINodes

    /// nil only when lilv cannot allocate a world.
    public convenience init?() {
        self.init(searching: nil)
    }

    /// A world of the bundles under `folders` only, whatever `LV2_PATH` says: for tests and tools
    /// that must see exactly the plugins they were given.
    public convenience init?(folders: [String]) {
        self.init(searching: folders)
    }

    /// A world of `LV2_PATH`'s bundles whose reading is left to ``loadAll()``: its owner can make it
    /// at once and have another thread read the bundles, as long as nothing else uses it meanwhile.
    public static func unloaded() -> LV2World? { LV2World(searching: nil, loading: false) }

    private init?(searching folders: [String]?, loading: Bool = true) {
        guard let world = lilv_world_new() else { return nil }
        self.world = world
        if let folders {
            let path = lilv_new_string(world, folders.joined(separator: ":"))
            lilv_world_set_option(world, LILV_OPTION_LV2_PATH, path)
            lilv_node_free(path)
        }
        if loading { lilv_world_load_all(world) }
        nodes = Nodes(world: world)
        modguiNodes = ModGUINodes(world: world)
    }

    /// Reads every bundle on the search path (what the initialisers do, for ``unloaded()``).
    public func loadAll() { lilv_world_load_all(world) }

    deinit {
        nodes.free()
        modguiNodes.free()
        lilv_world_free(world)
    }
}

/// The URIs lilv is asked about, made once per world.
struct Nodes {
    let audio, control, cv, atom, event, output: OpaquePointer
    let midiEvent, unit, unitSymbol, preset, label, modBrand, minorVersion, microVersion, designation: OpaquePointer

    init(world: OpaquePointer) {
        func node(_ uri: String) -> OpaquePointer { lilv_new_uri(world, uri) }
        audio = node(LILV_URI_AUDIO_PORT)
        control = node(LILV_URI_CONTROL_PORT)
        cv = node(LILV_URI_CV_PORT)
        atom = node(LILV_URI_ATOM_PORT)
        event = node(LILV_URI_EVENT_PORT)
        output = node(LILV_URI_OUTPUT_PORT)
        midiEvent = node("http://lv2plug.in/ns/ext/midi#MidiEvent")
        unit = node("http://lv2plug.in/ns/extensions/units#unit")
        unitSymbol = node("http://lv2plug.in/ns/extensions/units#symbol")
        preset = node("http://lv2plug.in/ns/ext/presets#Preset")
        label = node("http://www.w3.org/2000/01/rdf-schema#label")
        modBrand = node("http://moddevices.com/ns/mod#brand")
        minorVersion = node("http://lv2plug.in/ns/lv2core#minorVersion")
        microVersion = node("http://lv2plug.in/ns/lv2core#microVersion")
        designation = node("http://lv2plug.in/ns/lv2core#designation")
    }

    func free() {
        for node in [
            audio, control, cv, atom, event, output, midiEvent, unit, unitSymbol, preset, label, modBrand,
            minorVersion, microVersion, designation,
        ] {
            lilv_node_free(node)
        }
    }
}

/// The modgui vocabulary, made once per world.
struct ModGUINodes {
    let gui, resourcesDirectory, port, index, symbol, name: OpaquePointer
    let files: [(ModGUI.File, OpaquePointer)]
    let texts: [(ModGUI.Text, OpaquePointer)]

    init(world: OpaquePointer) {
        func node(_ uri: String) -> OpaquePointer { lilv_new_uri(world, uri) }
        let modgui = "http://moddevices.com/ns/modgui#"
        gui = node(modgui + "gui")
        resourcesDirectory = node(modgui + "resourcesDirectory")
        port = node(modgui + "port")
        index = node("http://lv2plug.in/ns/lv2core#index")
        symbol = node("http://lv2plug.in/ns/lv2core#symbol")
        name = node("http://lv2plug.in/ns/lv2core#name")
        files = ModGUI.File.allCases.map { ($0, node(modgui + $0.rawValue)) }
        texts = ModGUI.Text.allCases.map { ($0, node(modgui + $0.rawValue)) }
    }

    func free() {
        for node in [gui, resourcesDirectory, port, index, symbol, name] + files.map(\.1) + texts.map(\.1) {
            lilv_node_free(node)
        }
    }
}
