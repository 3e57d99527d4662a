public import LV2

/// How a pedalboard saved without any wire to the audio interface is connected to it: the capture
/// ports into the first plugin's audio inputs, the last plugin's audio outputs into the playback
/// ports, by the plugins' real port symbols (the reference hard-coded `in_1`/`out_1`, which most
/// plugins do not have).
public enum SystemWiring {
    /// Capture `i` feeds audio input `i` (extra captures stay unwired); playback `i` takes audio
    /// output `i`, or the last one, so a mono plugin is heard on both sides.
    public static func wires(for board: Pedalboard, catalogue: PluginCatalogue) -> [Connection] {
        guard let first = board.plugins.first, let last = board.plugins.last,
            let firstInfo = catalogue.plugin(uri: first.uri), let lastInfo = catalogue.plugin(uri: last.uri)
        else { return [] }
        func port(_ name: String) -> String { String(name.split(separator: ":").last ?? "") }
        var wires: [Connection] = []
        let inputs = firstInfo.audioInputs
        for (index, capture) in board.systemInputs.enumerated() where index < inputs.count {
            wires.append(
                Connection(
                    sourcePlugin: Connection.system,
                    sourcePort: port(capture),
                    targetPlugin: first.instanceID,
                    targetPort: inputs[index].symbol
                )
            )
        }
        let outputs = lastInfo.audioOutputs
        for (index, playback) in board.systemOutputs.enumerated() where !outputs.isEmpty {
            wires.append(
                Connection(
                    sourcePlugin: last.instanceID,
                    sourcePort: outputs[min(index, outputs.count - 1)].symbol,
                    targetPlugin: Connection.system,
                    targetPort: port(playback)
                )
            )
        }
        return wires
    }
}
