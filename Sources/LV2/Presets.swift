// Presets through lilv's state API: read, shown as Turtle, saved as bundles.

import CLilv
import Foundation

extension LV2World {
    /// The port values a preset sets, by symbol; nil when no such preset is known.
    ///
    /// Only port values are read (the plugin's own state interface is not called), so applying
    /// them never runs plugin code beside the audio thread.
    public func presetValues(_ presetURI: String, features: HostFeatures) -> [String: Double]? {
        guard let state = loadState(presetURI, features: features) else { return nil }
        defer { lilv_state_free(state) }
        let collector = PortValueCollector(features: features)
        withExtendedLifetime(collector) {
            lilv_state_restore(
                state,
                nil,
                { symbol, context, value, size, type in
                    guard let symbol, let context, let value else { return }
                    let collector = Unmanaged<PortValueCollector>.fromOpaque(context).takeUnretainedValue()
                    collector.add(String(cString: symbol), value: value, size: size, type: type)
                },
                Unmanaged.passUnretained(collector).toOpaque(),
                0,
                nil
            )
        }
        return collector.values
    }

    /// The preset as Turtle, as mod-host's `preset_show` prints it; nil when unknown.
    public func presetText(_ presetURI: String, features: HostFeatures) -> String? {
        guard let state = loadState(presetURI, features: features) else { return nil }
        defer { lilv_state_free(state) }
        guard let text = lilv_state_to_string(world, features.map, features.unmap, state, presetURI, nil) else {
            return nil
        }
        defer { lilv_free(text) }
        return String(cString: text)
    }

    /// Saves `values` as a preset of `instance` in `directory/fileName` (a bundle), labelled
    /// `label`, and loads it so `presetValues` finds it. Returns the preset's URI.
    public func savePreset(
        of instance: LoadedPlugin,
        label: String,
        values: [String: Float],
        directory: String,
        fileName: String,
        features: HostFeatures
    ) throws(PluginLoadError) -> String {
        let source = PortValueSource(values: values, floatType: features.urid(LV2_ATOM__Float))
        let state = withExtendedLifetime(source) {
            lilv_state_new_from_instance(
                instance.plugin,
                instance.instance,
                features.map,
                nil,
                nil,
                nil,
                directory,
                { symbol, context, size, type in
                    guard let symbol, let context, let size, let type else { return nil }
                    let source = Unmanaged<PortValueSource>.fromOpaque(context).takeUnretainedValue()
                    return source.value(String(cString: symbol), size: size, type: type)
                },
                Unmanaged.passUnretained(source).toOpaque(),
                UInt32(LV2_STATE_IS_POD.rawValue | LV2_STATE_IS_PORTABLE.rawValue),
                features.features
            )
        }
        guard let state else { throw PluginLoadError(kind: .instantiation, message: "cannot snapshot the instance") }
        defer { lilv_state_free(state) }
        lilv_state_set_label(state, label)
        let uri = URL(fileURLWithPath: directory).appendingPathComponent(fileName).absoluteString
        guard lilv_state_save(world, features.map, features.unmap, state, uri, directory, fileName) == 0 else {
            throw PluginLoadError(kind: .instantiation, message: "cannot write the preset into \(directory)")
        }
        let bundle = lilv_new_file_uri(world, nil, directory.hasSuffix("/") ? directory : directory + "/")
        defer { lilv_node_free(bundle) }
        lilv_world_load_bundle(world, bundle)
        return uri
    }

    private func loadState(_ presetURI: String, features: HostFeatures) -> OpaquePointer? {
        guard let node = lilv_new_uri(world, presetURI) else { return nil }
        defer { lilv_node_free(node) }
        lilv_world_load_resource(world, node)
        return lilv_state_new_from_world(world, features.map, node)
    }
}

private let LV2_ATOM__Float = "http://lv2plug.in/ns/ext/atom#Float"

/// Port values lilv hands back while "restoring" a state without an instance.
private final class PortValueCollector {
    var values: [String: Double] = [:]
    let float, double, int, long, bool: UInt32

    init(features: HostFeatures) {
        float = features.urid(LV2_ATOM__Float)
        double = features.urid("http://lv2plug.in/ns/ext/atom#Double")
        int = features.urid("http://lv2plug.in/ns/ext/atom#Int")
        long = features.urid("http://lv2plug.in/ns/ext/atom#Long")
        bool = features.urid("http://lv2plug.in/ns/ext/atom#Bool")
    }

    func add(_ symbol: String, value: UnsafeRawPointer, size: UInt32, type: UInt32) {
        switch (type, size) {
        case (float, 4): values[symbol] = Double(value.loadUnaligned(as: Float.self))
        case (double, 8): values[symbol] = value.loadUnaligned(as: Double.self)
        case (int, 4), (bool, 4): values[symbol] = Double(value.loadUnaligned(as: Int32.self))
        case (long, 8): values[symbol] = Double(value.loadUnaligned(as: Int64.self))
        default: break
        }
    }
}

/// Port values lilv asks for while snapshotting an instance; the pointers live as long as this.
private final class PortValueSource {
    private let storage: [String: UnsafeMutablePointer<Float>]
    private let floatType: UInt32

    init(values: [String: Float], floatType: UInt32) {
        storage = values.mapValues { value in
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
            pointer.initialize(to: value)
            return pointer
        }
        self.floatType = floatType
    }

    deinit { for pointer in storage.values { pointer.deallocate() } }

    func value(
        _ symbol: String,
        size: UnsafeMutablePointer<UInt32>,
        type: UnsafeMutablePointer<UInt32>
    )
        -> UnsafeRawPointer?
    {
        guard let pointer = storage[symbol] else { return nil }
        size.pointee = 4
        type.pointee = floatType
        return UnsafeRawPointer(pointer)
    }
}
