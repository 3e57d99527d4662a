import Health

extension Supervisor {
    /// One supervised service: its spec and everything known about its current process.
    struct Unit {
        enum State: Equatable {
            /// Not running; starts once its dependencies are ready.
            case waiting
            /// Spawned (or spawning), not yet ready.
            case starting
            case ready
            /// Failed; waiting out its backoff before the next start.
            case backoff
            case stopping
            case stopped
            /// Past its restart limit.
            case failed
            /// Its program is not installed, or a dependency is absent.
            case absent
        }

        var spec: ServiceSpec
        let log: ServiceLog
        /// What the child inherits, before its spec's own variables.
        let environment: [String: String]
        var state = State.waiting
        /// Bumped at every start, so events about an earlier process are recognised and ignored.
        var generation = 0
        var child: ChildProcess?
        var spawnedAt: ContinuousClock.Instant?
        var readyAt: ContinuousClock.Instant?
        var notifiedReady = false
        var livenessFailures = 0
        var tracker: RestartTracker
        var restarts = 0
        var lastExit: LastExit?
        var probe: ProbeReport?
        var message: String?

        init(spec: ServiceSpec, log: ServiceLog, environment: [String: String]) {
            self.spec = spec
            self.log = log
            self.environment = environment
            tracker = RestartTracker(policy: spec.restart)
        }

        var healthState: ServiceState {
            switch state {
            case .waiting, .starting: .starting
            case .ready: livenessFailures > 0 ? .unhealthy : .healthy
            case .backoff: .unhealthy
            case .stopping: .stopping
            case .stopped: .stopped
            case .failed: .failed
            case .absent: .absent
            }
        }
    }
}
