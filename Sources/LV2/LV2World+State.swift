import CLilv
import Foundation

/// A plugin's own state (its `state:interface`), saved into and restored from a folder, as
/// mod-host's `state_save` and `state_load` keep each instance's state in a project.
extension LV2World {
    /// Whether the plugin keeps state of its own beyond its ports.
    public func hasState(_ instance: LoadedPlugin) -> Bool {
        guard let node = lilv_new_uri(world, "http://lv2plug.in/ns/ext/state#interface") else { return false }
        defer { lilv_node_free(node) }
        return lilv_plugin_has_extension_data(instance.plugin, node)
    }

    /// Saves the plugin's state (without port values) as `directory/effect.ttl`.
    public func saveState(of instance: LoadedPlugin, directory: String, features: HostFeatures) -> Bool {
        let state = lilv_state_new_from_instance(
            instance.plugin,
            instance.instance,
            features.map,
            nil,
            directory,
            directory,
            directory,
            nil,
            nil,
            UInt32(LV2_STATE_IS_POD.rawValue | LV2_STATE_IS_PORTABLE.rawValue),
            features.features
        )
        guard let state else { return false }
        defer { lilv_state_free(state) }
        return lilv_state_save(world, features.map, features.unmap, state, nil, directory, "effect.ttl") == 0
    }

    /// Restores the state saved in `file`. The plugin must not be running meanwhile (LV2's
    /// instantiation threading class).
    public func restoreState(of instance: LoadedPlugin, file: String, features: HostFeatures) -> Bool {
        guard let state = lilv_state_new_from_file(world, features.map, nil, file) else { return false }
        defer { lilv_state_free(state) }
        lilv_state_restore(
            state,
            instance.instance,
            nil,
            nil,
            UInt32(LV2_STATE_IS_POD.rawValue | LV2_STATE_IS_PORTABLE.rawValue),
            features.features
        )
        return true
    }
}
