import Foundation
public import Messaging

/// A plugin's patch parameters (`patch:writable` properties, set through its atom port by the host's
/// `patch_set`): an impulse response, a sample, an amp model. A file's path must name a file under
/// the user's files (links resolved), so no client can make a plugin read anything else. The value
/// is saved with the board and set again in every new host.
extension Session {
    /// Sets `property` of an instance to `value` (a path, a string or a number, as text).
    public func setPatchParameter(_ instanceID: String, property: String, value: String) async throws -> JSONValue {
        try PedalboardStore.validate(id: instanceID)
        _ = try state.instance(instanceID)
        guard (1...512).contains(property.utf8.count), property.contains(":"),
            !property.unicodeScalars.contains(where: { $0.value <= 0x20 || $0 == "\"" || $0.value == 0x7F })
        else { throw RPCError(.invalidParameters, "'uri' is a property URI without spaces or quotes") }
        guard value.utf8.count <= 4096, !value.contains("\""),
            !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw RPCError(.invalidParameters, "'value' is at most 4 KiB, without quotes or control characters") }
        let confined = try value.contains("/") ? confinedUserFile(value) : value
        return try await exclusive {
            let plugin = try state.instance(instanceID)
            guard let number = plugin.hostNumber else {
                throw RPCError(.instanceNotFound, "\(instanceID) is not in the host")
            }
            try await setPatchInHost(number: number, property: property, value: confined)
            if let index = state.pedalboard?.pluginIndex(instanceID) {
                state.pedalboard?.plugins[index].patch[property] = confined
            }
            state.touch()
            changed()
            let data: JSONValue = [
                "instance_id": .string(instanceID), "uri": .string(property), "value": .string(confined),
            ]
            publish("patch_parameter_changed", data)
            return data
        }
    }

    /// mod-host reads the value in double quotes as one argument, typed by the plugin's parameter.
    func setPatchInHost(number: Int, property: String, value: String) async throws(RPCError) {
        try await bridge.send(["command": .string("patch_set \(number) \(property) \"\(value)\"")])
    }

    /// The real path of a file under the user's files, or `INVALID_PARAMETERS`.
    func confinedUserFile(_ path: String) throws(RPCError) -> String {
        let root = URL(fileURLWithPath: store.userFiles.root).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var isFolder: ObjCBool = false
        guard resolved.hasPrefix(root + "/"), FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder),
            !isFolder.boolValue
        else {
            throw RPCError(.invalidParameters, "A file parameter names a file under \(store.userFiles.root)")
        }
        return resolved
    }

    /// Sets every saved patch value again in a new host.
    func applyPatchParameters() async -> [JSONValue] {
        var failures: [JSONValue] = []
        for plugin in state.plugins {
            guard let number = plugin.hostNumber else { continue }
            for (property, value) in plugin.patch.sorted(by: { $0.key < $1.key }) {
                do {
                    try await setPatchInHost(number: number, property: property, value: value)
                } catch {
                    failures.append(
                        [
                            "instance_id": .string(plugin.instanceID), "uri": .string(property),
                            "error": .string(error.message),
                        ]
                    )
                }
            }
        }
        return failures
    }
}
