import Foundation
import Health

/// The operator's page: its history, sampler and actions.
extension SupervisorRuntime {
    /// `MARLISE_HTTP_TOKEN`, when set, lets a request from outside loopback that presents it act.
    static func operatorActions(_ supervisor: Supervisor, environment: [String: String]) -> OperatorActions {
        OperatorActions(token: environment["MARLISE_HTTP_TOKEN"]) { name, action in
            switch action {
            case .restart: try await supervisor.restart(name)
            case .stop: try await supervisor.stopService(name)
            case .start: try await supervisor.startService(name)
            }
        }
    }

    static func sampler(
        _ board: HealthBoard,
        _ history: HealthHistory,
        configuration: SupervisorConfiguration,
        supervisor: Supervisor
    ) -> HistorySampler {
        let folder = URL(fileURLWithPath: configuration.logDirectory).standardizedFileURL.path
        let logs = configuration.selectedServices.map { (service: $0.name, path: "\(folder)/\($0.logName).log") }
        var sampler = HistorySampler(board: board, history: history, logs: logs)
        sampler.jack = { supervisor.watchedJack.withLock { $0 }?.figures() }
        sampler.rpc = { supervisor.rpcTotals.withLock { $0 } }
        return sampler
    }
}
