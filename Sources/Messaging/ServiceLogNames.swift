/// The stem of each stack service's log file in the supervisor's log folder, named where Marlise's
/// documentation tells an operator to look: `session-manager.log`, `modhost-bridge.log` and
/// `mod-host.log` (whichever host program runs); `jack.log` and `supervisor.log` keep their names.
/// Here so the supervisor, which writes the files, and `marlisectl logs`, which finds them when no
/// supervisor answers, agree.
public enum ServiceLogNames {
    /// Service name → file stem, for the services whose stem is not their name.
    public static let stems = ["session": "session-manager", "bridge": "modhost-bridge", "host": "mod-host"]

    /// The file stem of `service`'s log: its own name unless listed in ``stems``.
    public static func stem(ofService service: String) -> String { stems[service] ?? service }
}
