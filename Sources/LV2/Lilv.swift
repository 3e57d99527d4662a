// Every call into lilv lives in this file.

import CLilv

extension PluginCatalogue {
    /// Reads every LV2 bundle on `LV2_PATH` (or lilv's default search path) once.
    ///
    /// A lilv world is not thread-safe, so it is made, read and freed here: callers get plain values.
    public static func load() -> PluginCatalogue {
        guard let world = lilv_world_new() else { return PluginCatalogue(plugins: []) }
        defer { lilv_world_free(world) }
        lilv_world_load_all(world)

        let classes = PortClasses(world: world)
        defer { classes.free() }

        var plugins: [PluginInfo] = []
        let all = lilv_world_get_all_plugins(world)
        var iterator = lilv_plugins_begin(all)
        while !lilv_plugins_is_end(all, iterator) {
            if let plugin = lilv_plugins_get(all, iterator) {
                plugins.append(describe(plugin, classes: classes))
            }
            iterator = lilv_plugins_next(all, iterator)
        }
        plugins.sort { $0.uri < $1.uri }
        return PluginCatalogue(plugins: plugins)
    }

    private static func describe(_ plugin: OpaquePointer, classes: PortClasses) -> PluginInfo {
        let uri = String(cString: lilv_node_as_uri(lilv_plugin_get_uri(plugin)))
        let nameNode = lilv_plugin_get_name(plugin)
        defer { lilv_node_free(nameNode) }
        let name = nameNode.map { String(cString: lilv_node_as_string($0)) } ?? uri

        let count = Int(lilv_plugin_get_num_ports(plugin))
        var minimums = [Float](repeating: .nan, count: count)
        var maximums = [Float](repeating: .nan, count: count)
        var defaults = [Float](repeating: .nan, count: count)
        lilv_plugin_get_port_ranges_float(plugin, &minimums, &maximums, &defaults)

        var ports: [PortInfo] = []
        for index in 0..<count {
            guard let port = lilv_plugin_get_port_by_index(plugin, UInt32(index)) else { continue }
            let symbol = String(cString: lilv_node_as_string(lilv_port_get_symbol(plugin, port)))
            let portName = lilv_port_get_name(plugin, port)
            defer { lilv_node_free(portName) }
            let kind: PortInfo.Kind =
                if lilv_port_is_a(plugin, port, classes.audio) {
                    .audio
                } else if lilv_port_is_a(plugin, port, classes.control) {
                    .control
                } else if lilv_port_is_a(plugin, port, classes.cv) {
                    .cv
                } else if lilv_port_is_a(plugin, port, classes.atom) {
                    .atom
                } else if lilv_port_is_a(plugin, port, classes.event) { .event } else { .other }
            let isControl = kind == .control
            func value(_ number: Float) -> Double? { isControl && !number.isNaN ? Double(number) : nil }
            ports.append(
                PortInfo(
                    index: index,
                    symbol: symbol,
                    name: portName.map { String(cString: lilv_node_as_string($0)) } ?? symbol,
                    kind: kind,
                    direction: lilv_port_is_a(plugin, port, classes.output) ? .output : .input,
                    defaultValue: value(defaults[index]),
                    minimum: value(minimums[index]),
                    maximum: value(maximums[index])
                )
            )
        }
        return PluginInfo(uri: uri, name: name, ports: ports)
    }
}

/// The port-class URIs, made once per world.
private struct PortClasses {
    let audio, control, cv, atom, event, output: OpaquePointer

    init(world: OpaquePointer) {
        func node(_ uri: String) -> OpaquePointer { lilv_new_uri(world, uri) }
        audio = node(LILV_URI_AUDIO_PORT)
        control = node(LILV_URI_CONTROL_PORT)
        cv = node(LILV_URI_CV_PORT)
        atom = node(LILV_URI_ATOM_PORT)
        event = node(LILV_URI_EVENT_PORT)
        output = node(LILV_URI_OUTPUT_PORT)
    }

    func free() {
        for node in [audio, control, cv, atom, event, output] { lilv_node_free(node) }
    }
}
