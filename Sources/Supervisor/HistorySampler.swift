import Foundation
import Health
import Messaging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Samples the stack into the history every `history.interval`: each service's state, CPU time
/// and resident memory (one read of `/proc/<pid>/stat`), and the new lines of its log.
///
/// Reads only the health board and small files, never the supervisor's actor, so a sample never
/// waits on a busy stack; at one sample every 2 s the cost stays within the idle CPU budget
/// (figures in the operator guide).
struct HistorySampler: Service {
    let board: HealthBoard
    let history: HealthHistory
    /// Each service's name and log file.
    let logs: [(service: String, path: String)]
    /// JACK's DSP load (0 to 1) and xrun count, lent by the `jack` probe's ``JackWatch`` (the one
    /// client the supervisor keeps: a client of the sampler's own would cost the whole box a wake-up
    /// per cycle); nil while JACK is not being watched.
    var jack: (@Sendable () -> (dspLoad: Double, xruns: Int)?)? = nil
    /// Each service's RPC counts as its liveness probe last read them (the session's), lent by the
    /// supervisor: the probe's call already made, none of the sampler's own.
    var rpc: (@Sendable () -> [String: TimedRPCTotals])? = nil

    func run() async {
        var tails = logs.map { LogTail(path: $0.path) }
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        let page = sysconf(Int32(_SC_PAGESIZE))
        var windows = RPCWindows()
        repeat {
            for index in tails.indices {
                for line in tails[index].read() { history.log(logs[index].service, line) }
            }
            var sample = Self.sample(board.report, ticksPerSecond: ticks, pageSize: page)
            if let figures = jack?() { (sample.dspLoad, sample.xruns) = (figures.dspLoad, figures.xruns) }
            if let rpc { windows.apply(rpc(), to: &sample) }
            history.record(sample)
        } while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: history.interval) })) != nil
    }

    static func sample(_ report: HealthReport, ticksPerSecond: Int, pageSize: Int) -> HistorySample {
        let services = report.services.map { service in
            let figures = service.pid.flatMap { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)).flatMap {
                    ProcessFigures(stat: $0, ticksPerSecond: ticksPerSecond, pageSize: pageSize)
                }
            }
            return ServiceSample(
                name: service.name,
                state: service.state,
                cpuSeconds: figures?.cpuSeconds,
                residentBytes: figures?.residentBytes,
                restarts: service.restarts,
                probeLatency: service.probe?.latency.inSeconds
            )
        }
        return HistorySample(time: Date().timeIntervalSince1970, services: services)
    }
}
