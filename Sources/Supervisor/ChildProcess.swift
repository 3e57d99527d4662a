import Foundation
import Locking
import Messaging
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// How a child ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exit code \(code)"
        case .signalled(let number): "signal \(number) (\(signalName(number)))"
        }
    }
}

/// What to run, with every descriptor and variable already decided.
public struct Command: Sendable {
    /// An absolute path.
    public var executable: String
    public var arguments: [String]
    /// The child's whole environment (nothing more is inherited).
    public var environment: [String: String]
    public var workingDirectory: String?
    /// Write ends for the child's stdout and stderr; closed here once the child has them.
    /// `nil`: `/dev/null`.
    public var standardOutput: Int32?
    public var standardError: Int32?

    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String],
        workingDirectory: String? = nil,
        standardOutput: Int32? = nil,
        standardError: Int32? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}

/// A spawn that failed before the child ran.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var executable: String
    public var reason: String
    /// What swift-subprocess threw (its errno inside), kept for the log.
    public var underlying: (any Error)? = nil
    public var description: String { "cannot start \(executable): \(reason)" }
}

/// One running child process, in a session and process group of its own.
///
/// Built on swift-subprocess rather than Foundation's `Process`, whose Linux defects cannot all be
/// closed from outside (each shown in `ChildProcessTests`): the child starts with an empty signal
/// mask and every signal at its default disposition, whatever thread spawned it and whatever the
/// supervisor ignores; its exit is noticed through its pidfd the moment it happens, even while a
/// grandchild holds its descriptors or another child has closed its own; and nothing of the
/// supervisor's leaks into it but the descriptors given.
public final class ChildProcess: Sendable {
    public let pid: Int32
    public let executable: String
    private let exit: OneShot<ExitStatus>

    private init(pid: Int32, executable: String, exit: OneShot<ExitStatus>) {
        self.pid = pid
        self.executable = executable
        self.exit = exit
    }

    /// Starts `command`; returns once the child runs.
    public static func spawn(_ command: Command) async throws(SpawnError) -> ChildProcess {
        let started = OneShot<Result<Int32, SpawnError>>()
        let exit = OneShot<ExitStatus>()
        var options = PlatformOptions()
        // A session of its own: the child leads a process group the stop signal reaches whole, and a
        // terminal's ^C reaches only the supervisor, which stops the stack in order.
        options.createSession = true
        let environment = Environment.custom(
            command.environment.map { key, value in Array("\(key)=\(value)".utf8) + [0] }
        )
        let output = command.standardOutput ?? open("/dev/null", O_WRONLY | O_CLOEXEC)
        let error = command.standardError ?? open("/dev/null", O_WRONLY | O_CLOEXEC)
        let executable = command.executable
        let abandoned = Locked(false)

        // Unstructured on purpose: the child outlives this call, and the task ends when the child does.
        Task.detached {
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(executable)),
                    arguments: Arguments(command.arguments),
                    environment: environment,
                    workingDirectory: command.workingDirectory.map { FilePath($0) },
                    platformOptions: options,
                    input: .none,
                    output: .fileDescriptor(FileDescriptor(rawValue: output), closeAfterSpawningProcess: true),
                    error: .fileDescriptor(FileDescriptor(rawValue: error), closeAfterSpawningProcess: true)
                ) { execution in
                    let pid = execution.processIdentifier.value
                    started.fulfil(.success(pid))
                    // The caller stopped waiting before the child ran: nobody will ever stop it.
                    if abandoned.withLock({ $0 }) { kill(-pid, SIGKILL) }
                }
                switch result.terminationStatus {
                case .exited(let code): exit.fulfil(.exited(code))
                case .signaled(let number): exit.fulfil(.signalled(number))
                }
            } catch {
                started.fulfil(.failure(SpawnError(executable: executable, reason: "\(error)", underlying: error)))
                exit.fulfil(.exited(127))
            }
        }
        let outcome: Result<Int32, SpawnError>
        do {
            outcome = try await started.value
        } catch {
            // Cancelled: whichever side comes second (this, or the child's start) kills the child.
            abandoned.withLock { $0 = true }
            if case .success(let pid) = started.current { kill(-pid, SIGKILL) }
            throw SpawnError(executable: executable, reason: "cancelled while starting")
        }
        return ChildProcess(pid: try outcome.get(), executable: executable, exit: exit)
    }

    /// Waits for the child to exit (it has been reaped when this returns); throws if the waiting
    /// task is cancelled first.
    public var exitStatus: ExitStatus {
        get async throws(CancellationError) { try await exit.value }
    }

    /// The exit status, if the child has exited.
    public var hasExited: ExitStatus? { exit.current }

    /// Whether the process still runs: not exited, and not a zombie waiting to be reaped (which is
    /// how a killed child looks for the moment before its exit is noticed).
    public var isAlive: Bool {
        guard hasExited == nil, let stat = readTextFile(atPath: "/proc/\(pid)/stat") else { return false }
        // `pid (comm) S …`: the state follows the last parenthesis (comm may hold any character).
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    /// Sends `number` to the child's whole process group (its own, grandchildren included).
    ///
    /// - Important: The group outlives its leader while any member lives, and its id cannot be
    ///   reused meanwhile; once all are gone this is a no-op (`ESRCH`), so it never reaches a stranger.
    public func signalGroup(_ number: Int32) {
        kill(-pid, number)
    }
}

/// `SIGTERM` for 15, and so on; the number itself when unknown.
public func signalName(_ number: Int32) -> String {
    let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGABRT: "SIGABRT",
        SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE",
        SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2", SIGSTOP: "SIGSTOP",
        SIGCONT: "SIGCONT",
    ]
    return names[number] ?? "\(number)"
}
