import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, the signals a supervisor or a terminal sends to stop a service.
public enum Termination {
    /// Every SIGTERM, SIGINT and SIGHUP from now on, in order. The signals' default actions are
    /// replaced for the rest of the process, so the caller decides what each one means.
    public static func signals() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "marlise.signals")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT, SIGHUP] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        let kept = SignalSources(sources)
        continuation.onTermination = { _ in kept.cancel() }
        return stream
    }
}

/// Keeps signal sources alive as long as the stream that reports them.
private final class SignalSources: @unchecked Sendable {  // immutable after init; cancel() is thread-safe.
    private let sources: [any DispatchSourceSignal]

    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
