/// What a re-sync does, decided from the session's plugins and what the bridge still holds, with
/// no I/O: ``Session`` performs it.
///
/// - an instance the bridge holds under one of our host numbers, with our plugin, is *adopted*
///   (given our values and bypass state), so a restarted session does not cut the sound;
/// - every other instance the bridge holds is unloaded (a leftover of a load the session never
///   recorded, or a different plugin under our number);
/// - the rest is loaded in ascending host-number order, so a bridge that hands out the lowest free
///   number gives each plugin its old number back; the load asks the bridge to adopt what its host
///   still runs under that number (a restarted bridge does not know what its host kept), so a
///   bridge crash does not cut the sound either.
struct ResyncPlan: Equatable {
    enum Step: Equatable {
        case adopt(instanceID: String, bridgeID: String)
        case load(instanceID: String)
    }

    var unload: [String] = []
    var steps: [Step] = []

    /// `hosted`: the bridge's instances by host number (`nil` when not reconciling: load everything).
    init(plugins: [PluginInstance], hosted: [Int: (id: String, uri: String)]?) {
        guard let hosted else {
            steps = plugins.sorted(by: Self.byNumber).map { .load(instanceID: $0.instanceID) }
            return
        }
        var adoptable: [Int: String] = [:]
        for (number, entry) in hosted.sorted(by: { $0.key < $1.key }) {
            if plugins.contains(where: { $0.hostNumber == number && $0.uri == entry.uri }) {
                adoptable[number] = entry.id
            } else {
                unload.append(entry.id)
            }
        }
        for plugin in plugins.sorted(by: Self.byNumber) {
            if let number = plugin.hostNumber, let bridgeID = adoptable[number] {
                steps.append(.adopt(instanceID: plugin.instanceID, bridgeID: bridgeID))
            } else {
                steps.append(.load(instanceID: plugin.instanceID))
            }
        }
    }

    private static func byNumber(_ first: PluginInstance, _ second: PluginInstance) -> Bool {
        (first.hostNumber ?? Int.max, first.instanceID) < (second.hostNumber ?? Int.max, second.instanceID)
    }
}
