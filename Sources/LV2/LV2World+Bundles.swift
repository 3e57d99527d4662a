import CLilv
import Foundation

/// Bundles added to or dropped from a running world, as mod-host's `bundle_add` and
/// `bundle_remove` do when a plugin is installed or uninstalled while the host runs.
extension LV2World {
    /// Loads the bundle at `path` (a folder); false when there is no such folder.
    @discardableResult
    public func loadBundle(_ path: String) -> Bool {
        guard let node = bundleNode(path) else { return false }
        defer { lilv_node_free(node) }
        lilv_world_load_bundle(world, node)
        return true
    }

    /// Unloads the bundle at `path`, and first `resource` (a URI, e.g. a preset) when one is given.
    @discardableResult
    public func unloadBundle(_ path: String, resource: String?) -> Bool {
        guard let node = bundleNode(path) else { return false }
        defer { lilv_node_free(node) }
        if let resource, !resource.isEmpty, let resourceNode = lilv_new_uri(world, resource) {
            lilv_world_unload_resource(world, resourceNode)
            lilv_node_free(resourceNode)
        }
        return lilv_world_unload_bundle(world, node) == 0
    }

    /// lilv names a bundle by its folder's file URI, with the trailing slash.
    private func bundleNode(_ path: String) -> OpaquePointer? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        var folder = String(cString: resolved)
        guard folder.count > 1 else { return nil }
        if !folder.hasSuffix("/") { folder += "/" }
        return lilv_new_file_uri(world, nil, folder)
    }
}
