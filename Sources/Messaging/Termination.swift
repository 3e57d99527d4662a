import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Waits for SIGTERM or SIGINT, the signals a supervisor or a terminal sends to stop a service.
public enum Termination {
    /// Returns the signal number once one arrives. The signals' default action (exit) is replaced
    /// for the rest of the process, so the caller can shut down in order.
    public static func signal() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let queue = DispatchQueue(label: "marlise.termination")
            let once = OneShot<Int32>()
            var sources: [DispatchSourceSignal] = []
            for number in [SIGTERM, SIGINT] {
                Glibc.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { once.fulfil(number) }
                source.resume()
                sources.append(source)
            }
            Task {
                let number = await once.value
                withExtendedLifetime(sources) {}
                continuation.resume(returning: number)
            }
        }
    }
}
