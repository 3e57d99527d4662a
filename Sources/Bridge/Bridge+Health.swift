import Foundation
import Health
public import Messaging
import ModHostWire

/// The health endpoint, and what the bridge does when its link to mod-host changes.
extension Bridge {
    /// `{"action":"health"}` (or a Marlise `health_check` probe) → the health object; anything
    /// else gets the C++ bridge's errors.
    func healthReply(to request: FrameServer.Request) -> Data {
        let reply: JSONValue
        switch request {
        case .malformed, .busy:
            reply = [
                "error": "Invalid JSON format", "success": false, "code": .string(ErrorCode.invalidRequest.rawValue),
            ]
        case .frame(let frame):
            if let parsed = try? JSONValue(parsing: frame) {
                if parsed["action"]?.stringValue == "health" || parsed["method"]?.stringValue == "health_check" {
                    reply = healthJSON()
                } else {
                    reply = [
                        "error": "Invalid health request format", "success": false,
                        "code": .string(ErrorCode.invalidRequest.rawValue),
                    ]
                }
            } else {
                reply = [
                    "error": "Invalid JSON format", "success": false, "code": .string(ErrorCode.parseError.rawValue),
                ]
            }
        }
        return reply.serialized(sortedKeys: true)
    }

    /// `status`, `message`, `command_connected`, `feedback_connected` as the C++ bridge's, plus
    /// `host` and `jack` detail.
    public func healthJSON() -> JSONValue {
        let link = link.snapshot
        let audio = audio.snapshot
        var status = link.status.rawValue
        var message = link.message
        if link.status == .healthy, audio.lost {
            status = LinkHealth.Status.degraded.rawValue
            message = "Service is degraded: the JACK server went away"
        }
        let (instances, lost) = (registry.withLock { $0.all.count }, lostInstances.withLock { $0 })
        return [
            "status": .string(status), "message": .string(message), "bridge_id": .string(bridgeBootID),
            "command_connected": .bool(link.commandConnected), "feedback_connected": .bool(link.feedbackConnected),
            "host": [
                "host": .string(configuration.modHostHost), "port": .int(configuration.modHostPort),
                "feedback_port": .int(configuration.modHostFeedbackPort), "reconnects": .int(link.reconnects),
                "last_error": link.lastError.map { .string($0) } ?? .null, "instances": .int(instances),
                "lost_instances": .array(lost.map { .string($0) }),
            ],
            "jack": audio.json,
        ]
    }

    /// Publishes the change; when mod-host came back, finds which instances it lost.
    func linkChanged(_ health: LinkHealth, _ cameBack: Bool) async {
        let shown = "\(health.status) \(health.commandConnected) \(health.feedbackConnected)"
        // Failed attempts while mod-host stays down change nothing: published once, not per attempt.
        let changed = lastPublishedLink.withLock { last in
            defer { last = shown }
            return last != shown
        }
        if changed { publishLink(health) }
        if cameBack { await resynchronise(reconnects: health.reconnects) }
    }

    private func publishLink(_ health: LinkHealth) {
        events.publish(
            "host_connection",
            [
                "status": .string(health.status.rawValue), "command_connected": .bool(health.commandConnected),
                "feedback_connected": .bool(health.feedbackConnected),
            ]
        )
        logger.info("mod-host link \(health.status.rawValue)", metadata: ["error": "\(health.lastError ?? "-")"])
        // `systemctl status` shows it; a no-op when not started by systemd or the supervisor.
        SystemdNotifier().notify("STATUS=mod-host link \(health.status.rawValue): \(health.message)")
    }

    /// Asks mod-host about every tracked instance (`param_get <n> <nonexistent symbol>` answers
    /// `ERR_INSTANCE_NON_EXISTS` for a missing instance and `ERR_LV2_INVALID_PARAM_SYMBOL` for a live
    /// one, changing nothing); drops the lost ones and publishes `host_reconnected`.
    func resynchronise(reconnects: Int) async {
        var lost: [PluginInstance] = []
        var kept: [PluginInstance] = []
        for instance in registry.withLock({ $0.all }) {
            guard let probe = try? ModHostCommand("param_get", [.int(instance.number), .word(":marlise-probe")]) else {
                continue
            }
            // Gone again: the next reconnection asks again.
            guard let reply = try? await link.send(probe) else { return }
            if reply.errorCode == .instanceNonExists { lost.append(instance) } else { kept.append(instance) }
        }
        registry.withLock { registry in
            for instance in lost { registry.remove(instance.id) }
        }
        lostInstances.withLock { $0 = lost.map(\.id) }
        events.publish(
            "host_reconnected",
            [
                "reconnects": .int(reconnects),
                "lost_instances": .array(lost.map { ["instance_id": .string($0.id), "uri": .string($0.uri)] }),
                "kept_instances": .array(kept.map { .string($0.id) }),
            ]
        )
    }
}

/// Differs in every bridge process: with `host.reconnects` it tells a client that probes now and
/// then that the bridge or its host was replaced in between, however quickly it came back.
let bridgeBootID = String(UInt64.random(in: 1...UInt64.max), radix: 16)
