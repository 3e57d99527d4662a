/// A process's CPU time and resident memory, read from `/proc/<pid>/stat`.
///
/// One read of one small file per service and sample: cheap enough to sample every few seconds
/// within the supervisor's idle budget.
public struct ProcessFigures: Sendable, Equatable {
    public var cpuSeconds: Double
    public var residentBytes: Int

    public init(cpuSeconds: Double, residentBytes: Int) {
        self.cpuSeconds = cpuSeconds
        self.residentBytes = residentBytes
    }

    /// Parses a `stat` line: utime and stime (fields 14 and 15, in clock ticks) and rss (field 24,
    /// in pages). The command (field 2) may hold spaces and parentheses, so fields are counted from
    /// the last `)`.
    public init?(stat: String, ticksPerSecond: Int, pageSize: Int) {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state).
        guard fields.count > 21, let user = Int(fields[11]), let system = Int(fields[12]),
            let pages = Int(fields[21]), ticksPerSecond > 0
        else { return nil }
        cpuSeconds = Double(user + system) / Double(ticksPerSecond)
        residentBytes = pages * pageSize
    }
}
