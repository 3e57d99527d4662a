import CLilv

/// A running copy of a plugin. Made, activated and freed by one owner thread; only its
/// ``RealtimePlugin`` is used from the audio thread.
public final class LoadedPlugin {
    public let info: PluginInfo
    let plugin: OpaquePointer
    let instance: UnsafeMutablePointer<LilvInstance>
    /// What the audio thread calls: plain pointers, no reference counting.
    public let realtime: RealtimePlugin
    private var active = false

    /// Instantiates `uri` with the host's features.
    public init(world: LV2World, uri: String, features: HostFeatures) throws(PluginLoadError) {
        let node = lilv_new_uri(world.world, uri)
        defer { lilv_node_free(node) }
        guard let node, let plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world.world), node) else {
            throw PluginLoadError(kind: .unknownURI, message: "no LV2 plugin \(uri) is installed")
        }
        let info = world.describe(plugin)
        let missing = HostFeatures.missing(from: info.requiredFeatures)
        guard missing.isEmpty else {
            throw PluginLoadError(
                kind: .missingFeature,
                message: "\(uri) requires features this host lacks: \(missing.joined(separator: ", "))"
            )
        }
        guard let instance = lilv_plugin_instantiate(plugin, features.sampleRate, features.features),
            let descriptor = instance.pointee.lv2_descriptor, let run = descriptor.pointee.run,
            let connect = descriptor.pointee.connect_port
        else {
            throw PluginLoadError(kind: .instantiation, message: "\(uri) failed to instantiate")
        }
        self.info = info
        self.plugin = plugin
        self.instance = instance
        realtime = RealtimePlugin(
            handle: instance.pointee.lv2_handle,
            run: unsafeBitCast(run, to: UnsafeRawPointer.self),
            connect: unsafeBitCast(connect, to: UnsafeRawPointer.self)
        )
    }

    deinit {
        deactivate()
        lilv_instance_free(instance)
    }

    /// Call once every port is connected, before the first `run`.
    public func activate() {
        guard !active else { return }
        lilv_instance_activate(instance)
        active = true
    }

    /// Call only once the audio thread can no longer run this instance.
    public func deactivate() {
        guard active else { return }
        lilv_instance_deactivate(instance)
        active = false
    }
}

/// The plugin's `run` and `connect_port`, callable from the audio thread.
public struct RealtimePlugin: @unchecked Sendable {  // Plain pointers, used by one audio thread at a time.
    let handle: UnsafeMutableRawPointer?
    let run: UnsafeRawPointer
    let connect: UnsafeRawPointer

    private typealias Run = @convention(c) (LV2_Handle?, UInt32) -> Void
    private typealias Connect = @convention(c) (LV2_Handle?, UInt32, UnsafeMutableRawPointer?) -> Void

    @inline(__always) public func connect(_ port: Int, to buffer: UnsafeMutableRawPointer?) {
        unsafeBitCast(connect, to: Connect.self)(handle, UInt32(port), buffer)
    }

    @inline(__always) public func run(frames: UInt32) {
        unsafeBitCast(run, to: Run.self)(handle, frames)
    }
}

/// Why a plugin could not be loaded.
public struct PluginLoadError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// No such plugin is installed.
        case unknownURI
        /// It requires an LV2 feature the host does not offer.
        case missingFeature
        /// Its `instantiate` returned nothing.
        case instantiation
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }
}
