import CLilv

/// A loaded lilv world: every bundle on `LV2_PATH`, read once.
///
/// lilv worlds are not thread-safe: one owner uses it from one thread (or under one lock) for
/// its whole life. The catalogue reader makes and drops its own; the audio host keeps one.
public final class LV2World {
    let world: OpaquePointer
    let nodes: Nodes

    /// nil only when lilv cannot allocate a world.
    public init?() {
        guard let world = lilv_world_new() else { return nil }
        self.world = world
        lilv_world_load_all(world)
        nodes = Nodes(world: world)
    }

    deinit {
        nodes.free()
        lilv_world_free(world)
    }
}

/// The URIs lilv is asked about, made once per world.
struct Nodes {
    let audio, control, cv, atom, event, output: OpaquePointer
    let midiEvent, unit, unitSymbol, preset, label, modBrand, minorVersion, microVersion: OpaquePointer

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
    }

    func free() {
        for node in [
            audio, control, cv, atom, event, output, midiEvent, unit, unitSymbol, preset, label, modBrand,
            minorVersion, microVersion,
        ] {
            lilv_node_free(node)
        }
    }
}
