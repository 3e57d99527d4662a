import Health
import Jack

extension Supervisor {
    /// One supervised service: its lifecycle machine and what the supervisor holds for it (the
    /// process, its log, what the report shows). The machine alone decides the service's state.
    struct Unit {
        var machine: ServiceMachine
        let log: ServiceLog
        /// What the child inherits, before its spec's own variables.
        let environment: [String: String]
        /// The current process, until its exit has been handled.
        var child: ChildProcess?
        var lastExit: LastExit?
        var probe: ProbeReport?
        /// The JACK liveness probe's client, closed the moment the process exits: a client left open
        /// on a dead server must not be there when the next server starts.
        var jackWatch: JackWatch?
        /// What the machine was last told of its dependencies.
        var told: (ready: Bool, absent: String?)?

        init(spec: ServiceSpec, log: ServiceLog, environment: [String: String]) {
            machine = ServiceMachine(spec: spec)
            self.log = log
            self.environment = environment
        }
    }
}
