import Foundation
import LV2
import ModHostWire

/// `patch_set` and `patch_get`: parameters a plugin takes as patch messages on its control atom
/// input rather than as control ports (a sampler's file, a convolver's impulse response), and
/// the `patch_set` feedback its replies become, as mod-host sends them.
extension Host {
    func runPatch(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "patch_set":
            try setPatch(arguments.int(0), arguments[1], arguments[2])
            return .status(0)
        case "patch_get":
            try getPatch(arguments.int(0), arguments[1])
            return .status(0)
        default:
            return nil
        }
    }

    /// Sends `patch:Set` with the value typed by the parameter's range. As mod-host: no control
    /// input is `-902`, an unknown parameter (or one without a range) `-101`, a full queue `-901`.
    /// Unlike mod-host, a value that is not of the range's type is `-902`, not a zero.
    func setPatch(_ number: Int, _ property: String, _ value: String) throws(HostFailure) {
        let found = try patchInstance(number)
        guard let parameter = found.patchParameters.first(where: { $0.uri == property }), let range = parameter.range
        else { throw HostFailure(.lv2InvalidURI, "no patch parameter \(property)") }
        guard let typed = PatchValue(range: range, text: value, features: features) else {
            throw HostFailure(.invalidOperation, "'\(value)' is not a value of \(range)")
        }
        let message = AtomWriter.object(
            features.urid(atomNamespace + "Object"),
            type: features.urid(patchNamespace + "Set"),
            properties: [
                (
                    features.urid(patchNamespace + "sequenceNumber"), features.urid(atomNamespace + "Int"),
                    AtomWriter.bytes(of: hostPatchSequence)
                ),
                (
                    features.urid(patchNamespace + "property"), features.urid(atomNamespace + "URID"),
                    AtomWriter.bytes(of: features.urid(property))
                ),
                (features.urid(patchNamespace + "value"), typed.type, typed.body),
            ]
        )
        guard found.sendPatch(message) else { throw HostFailure(.memoryAllocation, "the patch queue is full") }
    }

    /// Sends `patch:Get` for one parameter; the plugin answers with `patch:Set`, which becomes
    /// feedback.
    func getPatch(_ number: Int, _ property: String) throws(HostFailure) {
        let found = try patchInstance(number)
        var properties: [(UInt32, UInt32, [UInt8])] = []
        if !property.isEmpty {
            guard found.patchParameters.contains(where: { $0.uri == property }) else {
                throw HostFailure(.lv2InvalidURI, "no patch parameter \(property)")
            }
            properties.append(
                (
                    features.urid(patchNamespace + "property"), features.urid(atomNamespace + "URID"),
                    AtomWriter.bytes(of: features.urid(property))
                )
            )
        }
        let message = AtomWriter.object(
            features.urid(atomNamespace + "Object"),
            type: features.urid(patchNamespace + "Get"),
            properties: properties
        )
        guard found.sendPatch(message) else { throw HostFailure(.memoryAllocation, "the patch queue is full") }
    }

    /// A missing instance is `-3` whatever its number, as mod-host answers these two.
    private func patchInstance(_ number: Int) throws(HostFailure) -> HostedInstance {
        guard let found = instances[number] else { throw HostFailure(.instanceNonExists, "no instance \(number)") }
        guard found.takesPatchMessages else {
            throw HostFailure(.invalidOperation, "instance \(number) has no input for patch messages")
        }
        return found
    }

    /// Called between commands: each `patch:Set` a plugin wrote becomes `patch_set <instance>
    /// <property> <type> <value>` feedback; types mod-host does not report are dropped.
    func pollPatch() {
        for (number, found) in instances.sorted(by: { $0.key < $1.key }) {
            for value in found.takePatchValues() {
                guard let property = features.uri(value.property),
                    let text = PatchValue.feedback(type: value.type, body: value.body, features: features)
                else { continue }
                feedback.append("patch_set \(number) \(property) \(text)")
            }
        }
    }
}

let atomNamespace = "http://lv2plug.in/ns/ext/atom#"
let patchNamespace = "http://lv2plug.in/ns/ext/patch#"
