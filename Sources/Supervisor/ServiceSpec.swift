#if canImport(Glibc)
import Glibc
#endif

/// Everything the supervisor needs to run one child: how to start it, how to know it is ready and
/// alive, how to restart and how to stop it.
public struct ServiceSpec: Sendable, Equatable {
    /// The service's name: `jack`, `host`, `bridge`, `session`.
    public var name: String
    /// Its log file is `<logName>.log` in the log folder; the service's name unless the stack's
    /// defaults give it the name operators know (``ServiceLogNames``).
    public var logName: String
    /// An absolute path, or a name looked up on `PATH`. A name that resolves nowhere makes the service
    /// `absent` (never a crash loop).
    public var executable: String
    public var arguments: [String] = []
    /// Added to the environment every child inherits from the supervisor.
    public var environment: [String: String] = [:]
    public var workingDirectory: String?
    /// Services that must be ready before this one starts; when one of them goes down, this one is
    /// stopped and started again after it (OTP's rest_for_one).
    public var dependencies: [String] = []
    /// How readiness is known after a start.
    public var readiness: Probe
    /// How a running service is checked; `nil`: only its exit is watched.
    public var liveness: Probe?
    public var probe = ProbeSettings()
    /// How long readiness may take; past it the start counts as failed.
    public var startTimeout: Duration = .seconds(10)
    public var restart = RestartPolicy()
    public var stopSignal: Int32 = SIGTERM
    /// How long the stop signal may take before SIGKILL.
    public var stopTimeout: Duration = .seconds(5)
    /// Whether the stack is healthy without it.
    public var required = true
    /// Whether sound flows through it (JACK, the host). Past its restart limit a service on the
    /// audio path stops the stack for systemd to restart; one outside it (the bridge, the session)
    /// is `failed` and tried again every ``RestartPolicy/maxDelay`` while the music plays on.
    public var audioPath = true
    /// Whether it says over the notify socket when the pedalboard is back in the host
    /// (`BOARD=playing`) or being put back (`BOARD=restoring`): until then it is not healthy.
    public var reportsBoard = false

    public init(name: String, executable: String, readiness: Probe) {
        self.name = name
        logName = name
        self.executable = executable
        self.readiness = readiness
    }
}

/// A check of a service's state.
public enum Probe: Sendable, Equatable, CustomStringConvertible {
    /// Ready at once, once spawned.
    case spawned
    /// A JACK client can open against this server name (never starting a server).
    case jack(server: String)
    /// A TCP connection to this port on 127.0.0.1 is accepted.
    case tcp(port: Int)
    /// An RPC in the Marlise envelope to this endpoint gets any well-formed reply.
    case rpc(endpoint: String, method: String)
    /// The child said `READY=1` over the supervisor's notify socket (sd_notify), from its own PID.
    case notify
    /// `cpu_load` on mod-host's command port gets a `resp` back: the host is serving, not just
    /// listening (a stopped process still accepts TCP). Only for hosts that take several clients
    /// (marlise-host): mod-host serves one at a time, and the bridge holds it.
    case modhost(port: Int)

    public var description: String {
        switch self {
        case .spawned: "spawned"
        case .jack(let server): "jack:\(server)"
        case .tcp(let port): "tcp:\(port)"
        case .rpc(let endpoint, let method): "rpc:\(endpoint)#\(method)"
        case .notify: "notify"
        case .modhost(let port): "modhost:\(port)"
        }
    }
}

/// How often and how patiently probes run.
public struct ProbeSettings: Sendable, Equatable {
    /// Between two liveness checks.
    public var interval: Duration = .seconds(2)
    /// How long one check may take.
    public var timeout: Duration = .seconds(1)
    /// Consecutive failed liveness checks after which the service is killed and restarted.
    public var failureThreshold = 3
    /// Between two readiness checks while starting.
    public var readinessInterval: Duration = .milliseconds(20)

    public init() {}
}

/// When a service that died is started again, and when the supervisor stops counting on it.
public struct RestartPolicy: Sendable, Equatable {
    /// A death after the service was ready and ran this long (since its spawn) is restarted at once
    /// and not counted; an earlier one is an early death (supervisord's `startsecs`).
    public var startSeconds: Duration = .seconds(1)
    /// The second early death in a row waits this long; each later one twice as long (the first
    /// restart is immediate).
    public var initialDelay: Duration = .milliseconds(100)
    /// The longest wait between restarts; also the interval at which a `failed` service outside
    /// the audio path is tried again.
    public var maxDelay: Duration = .seconds(5)
    /// More than this many early deaths within ``window``: a service on the audio path stops the
    /// stack (the supervisor exits non-zero for systemd); one outside it is `failed`.
    public var maxRestarts = 5
    public var window: Duration = .seconds(60)
    /// Random spread applied to each delay, as a fraction (0.2: ±20 %), so restarts do not march in step.
    public var jitter = 0.2

    public init() {}
}
