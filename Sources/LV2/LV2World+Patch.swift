import CLilv

/// A plugin parameter set and read with patch messages (`patch:writable` / `patch:readable`),
/// not through a control port, such as a sampler's file.
public struct PatchParameter: Sendable, Equatable {
    public var uri: String
    /// Its `rdfs:range` (`http://lv2plug.in/ns/ext/atom#Path`, `…#Float`, …); nil if undeclared.
    public var range: String?
    /// Writable (mod-host follows those always) or only readable.
    public var writable: Bool
}

/// What a host needs to talk to a plugin in patch messages, read from lilv.
extension LV2World {
    /// The plugin's writable parameters, then its readable ones that are not also writable.
    public func patchParameters(of instance: LoadedPlugin) -> [PatchParameter] {
        let range = lilv_new_uri(world, "http://www.w3.org/2000/01/rdf-schema#range")
        defer { lilv_node_free(range) }
        var result: [PatchParameter] = []
        for (predicate, writable) in [("writable", true), ("readable", false)] {
            let node = lilv_new_uri(world, "http://lv2plug.in/ns/ext/patch#\(predicate)")
            defer { lilv_node_free(node) }
            guard let list = lilv_plugin_get_value(instance.plugin, node) else { continue }
            defer { lilv_nodes_free(list) }
            var iterator = lilv_nodes_begin(list)
            while !lilv_nodes_is_end(list, iterator) {
                defer { iterator = lilv_nodes_next(list, iterator) }
                guard let property = lilv_nodes_get(list, iterator), lilv_node_is_uri(property) else { continue }
                let uri = String(cString: lilv_node_as_uri(property))
                guard !result.contains(where: { $0.uri == uri }) else { continue }
                var type: String?
                if let found = lilv_world_get(world, property, range, nil) {
                    if lilv_node_is_uri(found) { type = String(cString: lilv_node_as_uri(found)) }
                    lilv_node_free(found)
                }
                result.append(PatchParameter(uri: uri, range: type, writable: writable))
            }
        }
        return result
    }

    /// The atom input patch messages go to, as mod-host picks it: the one designated
    /// `lv2:control`, else the first that supports `patch:Message`. nil if there is none.
    public func patchControlInput(of instance: LoadedPlugin) -> Int? {
        let plugin = instance.plugin
        let input = lilv_new_uri(world, "http://lv2plug.in/ns/lv2core#InputPort")
        let control = lilv_new_uri(world, "http://lv2plug.in/ns/lv2core#control")
        let message = lilv_new_uri(world, "http://lv2plug.in/ns/ext/patch#Message")
        defer {
            lilv_node_free(input)
            lilv_node_free(control)
            lilv_node_free(message)
        }
        if let port = lilv_plugin_get_port_by_designation(plugin, input, control),
            lilv_port_is_a(plugin, port, nodes.atom)
        {
            return Int(lilv_port_get_index(plugin, port))
        }
        for index in 0..<lilv_plugin_get_num_ports(plugin) {
            guard let port = lilv_plugin_get_port_by_index(plugin, index) else { continue }
            if lilv_port_is_a(plugin, port, nodes.atom) && lilv_port_is_a(plugin, port, input)
                && lilv_port_supports_event(plugin, port, message)
            {
                return Int(index)
            }
        }
        return nil
    }

    /// Restores the state the plugin's own data declares (`state:state`), for a plugin that asks
    /// for it (`state:loadDefaultState`, as mod-host honours it). Before activation.
    @discardableResult
    public func loadDefaultState(of instance: LoadedPlugin, features: HostFeatures) -> Bool {
        let feature = "http://lv2plug.in/ns/ext/state#loadDefaultState"
        guard instance.info.requiredFeatures.contains(feature) || instance.info.optionalFeatures.contains(feature)
        else { return false }
        let uri = lilv_new_uri(world, instance.info.uri)
        defer { lilv_node_free(uri) }
        guard let uri, let state = lilv_state_new_from_world(world, features.map, uri) else { return false }
        defer { lilv_state_free(state) }
        lilv_state_restore(state, instance.instance, nil, nil, 0, features.features)
        return true
    }
}
