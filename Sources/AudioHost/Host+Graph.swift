import ModHostWire

/// The JACK graph and the LV2 world: connections and bundles added while the host runs.
extension Host {
    func runGraph(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "connect":
            try connect(arguments[0], arguments[1])
        case "connect_safe":
            // Both ports must exist; JACK would otherwise wait for one to appear.
            guard client.hasPort(arguments[0]), client.hasPort(arguments[1]) else {
                throw HostFailure(.jackPortConnection, "no port \(arguments[0]) or \(arguments[1])")
            }
            try connect(arguments[0], arguments[1])
        case "disconnect":
            try disconnect(arguments[0], arguments[1])
        case "disconnect_safe":
            // Both ports must exist and be connected to something (mod-host's own check).
            guard client.hasPort(arguments[0]), client.hasPort(arguments[1]),
                !client.connections(of: arguments[0]).isEmpty, !client.connections(of: arguments[1]).isEmpty
            else {
                throw HostFailure(.jackPortConnection, "\(arguments[0]) or \(arguments[1]) is missing or unconnected")
            }
            try disconnect(arguments[0], arguments[1])
        case "disconnect_all":
            do { try client.disconnectAll(arguments[0]) } catch {
                throw HostFailure(.jackPortDisconnection, "\(error)")
            }
        case "connect_matching":
            // Connects `port` to everything `matching` is connected to.
            guard client.hasPort(arguments[0]) else {
                throw HostFailure(.jackPortConnection, "no port \(arguments[0])")
            }
            for other in client.connections(of: arguments[0]) { try? client.connect(other, arguments[1]) }
        case "bundle_add":
            // mod-host answers 0 whatever happened; a folder that is not there changes nothing.
            if !world.loadBundle(arguments[0]) {
                logger.notice("bundle_add: no folder", metadata: ["path": "\(arguments[0])"])
            }
        case "bundle_remove":
            if !world.unloadBundle(arguments[0], resource: arguments[1]) {
                logger.notice("bundle_remove: no such bundle", metadata: ["path": "\(arguments[0])"])
            }
        default:
            return nil
        }
        return .status(0)
    }

    private func connect(_ first: String, _ second: String) throws(HostFailure) {
        do { try client.connect(first, second) } catch {
            throw HostFailure(.jackPortConnection, "\(error)")
        }
    }

    private func disconnect(_ first: String, _ second: String) throws(HostFailure) {
        do { try client.disconnect(first, second) } catch {
            throw HostFailure(.jackPortDisconnection, "\(error)")
        }
    }
}
