import Foundation
import Synchronization

/// The `jack` service's liveness probe: one client kept open, and the server's cycles seen advancing.
///
/// A client opened per check costs the whole box (libjack maps and mlocks the server's shared memory,
/// and every client hears of the new one): it was most of the idle supervisor's CPU. A client kept
/// open answers from shared memory with no round trip, and "audio cycles advance" is the liveness
/// that matters on an audio box — a frozen server or a wedged driver stops them.
public final class JackWatch: @unchecked Sendable {
    private let server: String
    private let clientName: String
    /// Guards the fields below: checks and ``close()`` may come from different threads.
    private let lock = NSLock()
    private var client: JackClient?
    private var lastFrame: UInt32 = 0
    /// Set by ``close()``; a check under way when it comes closes the client on its way out.
    private let closed = Atomic(false)

    public init(server: String, clientName: String = "marlise-watch") {
        self.server = server
        self.clientName = clientName
    }

    deinit { close() }

    /// Fails when the server cannot be reached, or has not started a cycle since the last check.
    ///
    /// - Important: opening a client may block for libjack's client timeout when the server is wedged;
    ///   call this from a thread that may block.
    public func check() -> Result<Void, JackWatchFailure> {
        lock.withLock {
            defer { if closed.load(ordering: .acquiring) { closeClient() } }
            if closed.load(ordering: .acquiring) { return .failure(JackWatchFailure(description: "closed")) }
            if let client, !client.isShutDown {
                let frame = client.lastCycleFrame
                defer { lastFrame = frame }
                return frame == lastFrame
                    ? .failure(
                        JackWatchFailure(description: "JACK server '\(server)': no audio cycle since the last check")
                    )
                    : .success(())
            }
            // First check, or the server went away under the client: (re)open.
            closeClient()
            do {
                let opened = try JackClient(name: clientName, server: server)
                client = opened
                lastFrame = opened.lastCycleFrame
                return .success(())
            } catch {
                return .failure(JackWatchFailure(description: "JACK server '\(server)': \(error)"))
            }
        }
    }

    /// JACK's DSP load (0 to 1) and xruns since the client opened, read from the kept client's
    /// shared memory; nil while no client is open or a check holds it. Never blocks.
    public func figures() -> (dspLoad: Double, xruns: Int)? {
        guard lock.try() else { return nil }
        defer { lock.unlock() }
        guard let client, !client.isShutDown else { return nil }
        return (Double(client.cpuLoad) / 100, client.xruns)
    }

    /// Closes the client for good. Never blocks: a check stuck in libjack closes it when it returns.
    public func close() {
        closed.store(true, ordering: .releasing)
        guard lock.try() else { return }
        defer { lock.unlock() }
        closeClient()
    }

    /// Call with `lock` held.
    private func closeClient() {
        client?.close()
        client = nil
    }
}

/// Why a ``JackWatch`` check failed.
public struct JackWatchFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
}
