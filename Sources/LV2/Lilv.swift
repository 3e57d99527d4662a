// Every lilv call that reads the plugin catalogue lives in this file.

import CLilv

extension PluginCatalogue {
    /// Reads every LV2 bundle on `LV2_PATH` (or lilv's default search path); call again to rescan.
    ///
    /// A lilv world is not thread-safe, so this one is made, read and freed here: callers get plain values.
    public static func load() -> PluginCatalogue {
        load(folders: LV2Path.folders)
    }

    /// Reads the bundles under `folders` only, ignoring `LV2_PATH`.
    public static func load(folders: [String]) -> PluginCatalogue {
        let catalogue = LV2World(folders: folders)?.catalogue() ?? PluginCatalogue(plugins: [])
        releaseFreedMemory()
        return catalogue
    }
}

extension LV2World {
    /// Every plugin of this world, described, sorted by URI.
    public func catalogue() -> PluginCatalogue {
        var plugins: [PluginInfo] = []
        let all = lilv_world_get_all_plugins(world)
        var iterator = lilv_plugins_begin(all)
        while !lilv_plugins_is_end(all, iterator) {
            if let plugin = lilv_plugins_get(all, iterator) {
                plugins.append(describe(plugin))
            }
            iterator = lilv_plugins_next(all, iterator)
        }
        plugins.sort { $0.uri < $1.uri }
        return PluginCatalogue(plugins: plugins)
    }

    func describe(_ plugin: OpaquePointer) -> PluginInfo {
        let uri = String(cString: lilv_node_as_uri(lilv_plugin_get_uri(plugin)))
        var info = PluginInfo(uri: uri, name: taking(lilv_plugin_get_name(plugin)) ?? uri, ports: ports(of: plugin))
        info.author = taking(lilv_plugin_get_author_name(plugin)) ?? ""
        info.brand = first(lilv_plugin_get_value(plugin, nodes.modBrand)) ?? info.author
        let minor = first(lilv_plugin_get_value(plugin, nodes.minorVersion)) ?? "0"
        let micro = first(lilv_plugin_get_value(plugin, nodes.microVersion)) ?? "0"
        info.version = "\(minor).\(micro)"
        if let pluginClass = lilv_plugin_get_class(plugin), let label = lilv_plugin_class_get_label(pluginClass) {
            // lilv labels classes "Amplifier Plugin"; the web client shows "Amplifier".
            let text = String(cString: lilv_node_as_string(label))
            info.category = text.hasSuffix(" Plugin") ? String(text.dropLast(" Plugin".count)) : text
        }
        info.bundleURI = lilv_plugin_get_bundle_uri(plugin).map { String(cString: lilv_node_as_uri($0)) } ?? ""
        info.requiredFeatures = strings(lilv_plugin_get_required_features(plugin))
        info.optionalFeatures = strings(lilv_plugin_get_optional_features(plugin))
        info.presets = presets(of: plugin)
        info.modgui = modgui(of: plugin)
        return info
    }

    /// The plugin's first `modgui:gui` that names a resources directory, or nil. Nothing is read
    /// from disk: one lilv lookup for a plugin without a modgui, about fifteen (and three a port)
    /// for one with one.
    private func modgui(of plugin: OpaquePointer) -> ModGUI? {
        let names = modguiNodes
        guard let guis = lilv_plugin_get_value(plugin, names.gui) else { return nil }
        defer { lilv_nodes_free(guis) }
        var iterator = lilv_nodes_begin(guis)
        while !lilv_nodes_is_end(guis, iterator) {
            defer { iterator = lilv_nodes_next(guis, iterator) }
            guard let gui = lilv_nodes_get(guis, iterator),
                let directory = path(lilv_world_get(world, gui, names.resourcesDirectory, nil))
            else { continue }
            var result = ModGUI(resourcesDirectory: directory)
            for (file, predicate) in names.files {
                result.files[file] = path(lilv_world_get(world, gui, predicate, nil))
            }
            for (text, predicate) in names.texts {
                result.texts[text] = taking(lilv_world_get(world, gui, predicate, nil))
            }
            result.ports = modguiPorts(gui)
            return result
        }
        return nil
    }

    private func modguiPorts(_ gui: OpaquePointer) -> [ModGUI.Port] {
        let names = modguiNodes
        guard let list = lilv_world_find_nodes(world, gui, names.port, nil) else { return [] }
        defer { lilv_nodes_free(list) }
        var ports: [ModGUI.Port] = []
        var iterator = lilv_nodes_begin(list)
        while !lilv_nodes_is_end(list, iterator) {
            defer { iterator = lilv_nodes_next(list, iterator) }
            guard let port = lilv_nodes_get(list, iterator),
                let indexNode = lilv_world_get(world, port, names.index, nil)
            else { continue }
            let index = lilv_node_is_int(indexNode) ? Int(lilv_node_as_int(indexNode)) : -1
            lilv_node_free(indexNode)
            guard index >= 0 else { continue }
            ports.append(
                ModGUI.Port(
                    index: index,
                    symbol: taking(lilv_world_get(world, port, names.symbol, nil)) ?? "",
                    name: taking(lilv_world_get(world, port, names.name, nil)) ?? ""
                )
            )
        }
        return ports.sorted { $0.index < $1.index }
    }

    /// The absolute path of an owned `file:` URI node, which is freed; nil for any other node.
    private func path(_ node: OpaquePointer?) -> String? {
        guard let node else { return nil }
        defer { lilv_node_free(node) }
        guard lilv_node_is_uri(node), let parsed = lilv_file_uri_parse(lilv_node_as_uri(node), nil) else {
            return nil
        }
        defer { lilv_free(parsed) }
        let path = String(cString: parsed)
        return path.hasPrefix("/") ? path : nil
    }

    private func ports(of plugin: OpaquePointer) -> [PortInfo] {
        let count = Int(lilv_plugin_get_num_ports(plugin))
        var minimums = [Float](repeating: .nan, count: count)
        var maximums = [Float](repeating: .nan, count: count)
        var defaults = [Float](repeating: .nan, count: count)
        lilv_plugin_get_port_ranges_float(plugin, &minimums, &maximums, &defaults)

        var ports: [PortInfo] = []
        for index in 0..<count {
            guard let port = lilv_plugin_get_port_by_index(plugin, UInt32(index)) else { continue }
            let symbol = String(cString: lilv_node_as_string(lilv_port_get_symbol(plugin, port)))
            let kind: PortInfo.Kind =
                if lilv_port_is_a(plugin, port, nodes.audio) {
                    .audio
                } else if lilv_port_is_a(plugin, port, nodes.control) {
                    .control
                } else if lilv_port_is_a(plugin, port, nodes.cv) {
                    .cv
                } else if lilv_port_is_a(plugin, port, nodes.atom) {
                    .atom
                } else if lilv_port_is_a(plugin, port, nodes.event) { .event } else { .other }
            let isControl = kind == .control
            func value(_ number: Float) -> Double? { isControl && !number.isNaN ? Double(number) : nil }
            var info = PortInfo(
                index: index,
                symbol: symbol,
                name: taking(lilv_port_get_name(plugin, port)) ?? symbol,
                kind: kind,
                direction: lilv_port_is_a(plugin, port, nodes.output) ? .output : .input,
                defaultValue: value(defaults[index]),
                minimum: value(minimums[index]),
                maximum: value(maximums[index])
            )
            if isControl {
                info.unit = unitSymbol(plugin, port)
                info.properties = strings(lilv_port_get_properties(plugin, port)).map(localName)
                info.scalePoints = scalePoints(plugin, port)
                if let designation = lilv_port_get(plugin, port, nodes.designation) {
                    defer { lilv_node_free(designation) }
                    if lilv_node_is_uri(designation) {
                        info.designation = localName(String(cString: lilv_node_as_uri(designation)))
                    }
                }
            }
            info.supportsMIDI = lilv_port_supports_event(plugin, port, nodes.midiEvent)
            ports.append(info)
        }
        return ports
    }

    private func unitSymbol(_ plugin: OpaquePointer, _ port: OpaquePointer) -> String? {
        guard let unit = lilv_port_get(plugin, port, nodes.unit) else { return nil }
        defer { lilv_node_free(unit) }
        if let symbol = taking(lilv_world_get(world, unit, nodes.unitSymbol, nil)) { return symbol }
        return lilv_node_is_uri(unit) ? localName(String(cString: lilv_node_as_uri(unit))) : nil
    }

    private func scalePoints(_ plugin: OpaquePointer, _ port: OpaquePointer) -> [ScalePoint] {
        guard let points = lilv_port_get_scale_points(plugin, port) else { return [] }
        defer { lilv_scale_points_free(points) }
        var result: [ScalePoint] = []
        var iterator = lilv_scale_points_begin(points)
        while !lilv_scale_points_is_end(points, iterator) {
            if let point = lilv_scale_points_get(points, iterator) {
                result.append(
                    ScalePoint(
                        label: String(cString: lilv_node_as_string(lilv_scale_point_get_label(point))),
                        value: Double(lilv_node_as_float(lilv_scale_point_get_value(point)))
                    )
                )
            }
            iterator = lilv_scale_points_next(points, iterator)
        }
        return result.sorted { $0.value < $1.value }
    }

    private func presets(of plugin: OpaquePointer) -> [PresetInfo] {
        guard let related = lilv_plugin_get_related(plugin, nodes.preset) else { return [] }
        defer { lilv_nodes_free(related) }
        var result: [PresetInfo] = []
        var iterator = lilv_nodes_begin(related)
        while !lilv_nodes_is_end(related, iterator) {
            if let preset = lilv_nodes_get(related, iterator) {
                lilv_world_load_resource(world, preset)
                let uri = String(cString: lilv_node_as_uri(preset))
                let label = taking(lilv_world_get(world, preset, nodes.label, nil)) ?? localName(uri)
                result.append(PresetInfo(uri: uri, label: label))
            }
            iterator = lilv_nodes_next(related, iterator)
        }
        return result.sorted { $0.label < $1.label }
    }

    /// The string of an owned node, which is freed.
    private func taking(_ node: OpaquePointer?) -> String? {
        guard let node else { return nil }
        defer { lilv_node_free(node) }
        return String(cString: lilv_node_as_string(node))
    }

    /// The first of an owned node list as a string; the list is freed.
    private func first(_ list: UnsafeMutableRawPointer?) -> String? {
        strings(list).first
    }

    /// The strings of an owned node list, which is freed.
    private func strings(_ list: UnsafeMutableRawPointer?) -> [String] {
        guard let list else { return [] }
        defer { lilv_nodes_free(list) }
        var result: [String] = []
        var iterator = lilv_nodes_begin(list)
        while !lilv_nodes_is_end(list, iterator) {
            if let node = lilv_nodes_get(list, iterator) { result.append(String(cString: lilv_node_as_string(node))) }
            iterator = lilv_nodes_next(list, iterator)
        }
        return result
    }
}

/// The part of a URI after its last `#` or `/`: `lv2:integer` for `http://lv2plug.in/ns/lv2core#integer`.
func localName(_ uri: String) -> String {
    guard let cut = uri.lastIndex(where: { $0 == "#" || $0 == "/" }) else { return uri }
    return String(uri[uri.index(after: cut)...])
}

/// Gives freed heap pages back to the system. A lilv world holds every bundle's triples (about
/// 100 MB with 600 plugins) and the scan runs in a malloc arena of its own: once they are freed,
/// glibc keeps the pages mapped unless asked.
public func releaseFreedMemory() {
    _ = malloc_trim(0)
}

/// glibc's `malloc_trim`, which its Swift module does not export: gives freed heap pages back.
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32
