import Health
import Logging
import Messaging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The stack itself: runs the supervisor until it stops or gives up. A graceful shutdown of the
/// group stops the stack in order.
final class StackService: Service {
    let supervisor: Supervisor
    /// How the run ended, for the exit code.
    let outcome = OneShot<Supervisor.Outcome>()

    init(supervisor: Supervisor) { self.supervisor = supervisor }

    func run() async {
        let supervisor = self.supervisor
        await withDiscardingTaskGroup { group in
            group.addTask {
                // Ends with an error when the run ends first and this task is cancelled.
                guard (try? await gracefulShutdown()) != nil else { return }
                await supervisor.stop()
            }
            outcome.fulfil(await supervisor.run())
            group.cancelAll()
        }
    }
}

/// SIGTERM or SIGINT: the stack stops in order (`STOPPING=1` to systemd); a second one kills every
/// child at once. SIGHUP: the config is read again.
struct SignalService: Service {
    let supervisor: Supervisor
    let systemd: SystemdReporter
    let reload: ConfigurationReload

    func run() async {
        await withDiscardingTaskGroup { group in
            var received = 0
            for await number in Termination.signals().cancelOnGracefulShutdown() {
                if number == SIGHUP {
                    await reload.perform()
                    continue
                }
                received += 1
                if received == 1 {
                    systemd.stopping()
                    // In a task of its own, so a second signal is heard while the stack stops.
                    group.addTask { await supervisor.stop() }
                } else {
                    await supervisor.killAll()
                }
            }
        }
    }
}

/// SIGHUP: `RELOADING=1`, the config read again, changed services restarted, `READY=1` once settled.
/// A config that no longer reads is reported and the running one kept.
struct ConfigurationReload: Sendable {
    let supervisor: Supervisor
    let systemd: SystemdReporter
    let logger: Logger
    let reload: @Sendable () throws -> SupervisorConfiguration

    func perform() async {
        systemd.reloading()
        do {
            let configuration = try reload()
            await supervisor.reload(configuration.selectedServices)
            await supervisor.settled(timeout: .seconds(30))
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            await supervisor.note("reload refused, keeping the running configuration: \(error)")
        }
        systemd.reloaded()
    }
}

/// `WATCHDOG=1` at half systemd's interval, and only after the supervisor's actor answered: a
/// wedged supervisor stops feeding the watchdog and gets killed.
struct WatchdogService: Service {
    let supervisor: Supervisor

    func run() async {
        let notifier = SystemdNotifier()
        guard let interval = notifier.watchdogInterval else { return }
        while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval / 2) })) != nil {
            _ = await supervisor.health()
            notifier.notify("WATCHDOG=1")
        }
    }
}

/// Operators' HTTP health server, stopped on graceful shutdown.
struct HTTPService: Service {
    let server: HealthHTTPServer

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await server.run() }
    }
}

/// A part that runs by itself (on its own thread) and only needs closing on graceful shutdown.
struct ClosingService: Service, CustomStringConvertible {
    let name: String
    let close: @Sendable () async -> Void

    var description: String { name }

    func run() async {
        try? await gracefulShutdown()
        await close()
    }
}
