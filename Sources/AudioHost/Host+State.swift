import Foundation
import ModHostWire

/// `state_save <dir>` and `state_load <dir>`: each instance's own plugin state (its
/// `state:interface`) kept in `<dir>/effect-<n>/effect.ttl`, as mod-host keeps a project's.
extension Host {
    func runState(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        let directory = arguments.count > 0 ? arguments[0] : ""
        switch name {
        case "state_save":
            let files = FileManager.default
            var isFolder: ObjCBool = false
            if !files.fileExists(atPath: directory, isDirectory: &isFolder) {
                do { try files.createDirectory(atPath: directory, withIntermediateDirectories: false) } catch {
                    throw HostFailure(.invalidOperation, "cannot make \(directory): \(error)")
                }
            }
            for (number, found) in instances.sorted(by: { $0.key < $1.key }) where world.hasState(found.plugin) {
                let folder = "\(directory)/effect-\(number)"
                try? files.createDirectory(atPath: folder, withIntermediateDirectories: true)
                if !world.saveState(of: found.plugin, directory: folder, features: features) {
                    // As mod-host: no state now means no stale state left behind.
                    try? files.removeItem(atPath: "\(folder)/manifest.ttl")
                    try? files.removeItem(atPath: "\(folder)/effect.ttl")
                }
            }
            return .status(0)
        case "state_tmpdir":
            // Kept, as mod-host keeps it; plugins here get no scratch folder of their own.
            stateScratchDirectory = directory
            return .status(0)
        case "state_load":
            for (number, found) in instances.sorted(by: { $0.key < $1.key }) where world.hasState(found.plugin) {
                let file = "\(directory)/effect-\(number)/effect.ttl"
                guard FileManager.default.fileExists(atPath: file) else { continue }
                var restored = false
                found.whileHeld { restored = world.restoreState(of: found.plugin, file: file, features: features) }
                if !restored { logger.warning("cannot load state", metadata: ["file": "\(file)"]) }
            }
            return .status(0)
        default:
            return nil
        }
    }
}
