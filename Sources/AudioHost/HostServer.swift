import Foundation
import Locking
public import Logging
import ModHostWire

#if canImport(Glibc)
import Glibc
#endif

/// The host's one thread: accepts clients on the command and feedback ports, answers each
/// command in order, sends feedback, and ends on `quit`, SIGTERM/SIGINT or JACK's death.
public enum HostServer {
    /// Exit status when JACK went away: the supervisor restarts the host with JACK.
    public static let jackLostStatus: Int32 = 3

    /// Serves until told to stop; returns the process's exit status.
    public static func run(_ configuration: HostConfiguration, logger: Logger) -> Int32 {
        let wake = WakePipe()
        installSignalHandlers(wake: wake)
        let host: Host
        do {
            host = try Host(configuration: configuration, logger: logger)
        } catch {
            logger.critical("cannot start: \(error.message)")
            return 1
        }
        let jackLost = JackLoss(wake: wake)
        host.client.onShutdown { reason in jackLost.report(reason) }

        var server: ServerLoop
        do {
            server = try ServerLoop(configuration: configuration, host: host, wake: wake, logger: logger)
        } catch {
            logger.critical("cannot listen: \(error.message)")
            return 1
        }
        logger.info(
            "marlise-host ready",
            metadata: [
                "commands": "\(configuration.bindAddress):\(configuration.commandPort)",
                "feedback": "\(configuration.feedbackPort)", "jack": "\(configuration.jackServer ?? "default")",
                "sample_rate": "\(host.client.sampleRate)", "buffer_size": "\(host.client.bufferSize)",
            ]
        )
        // mod-host's readiness line, which scripts wait for.
        FileHandle.standardOutput.write(Data("mod-host ready!\n".utf8))
        return server.serve(jackLost: jackLost)
    }

    private static func installSignalHandlers(wake: WakePipe) {
        signalWakeFD = wake.write
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber) { _ in
                stopRequested = 1
                var byte: UInt8 = 1
                _ = write(signalWakeFD, &byte, 1)
            }
        }
        signal(SIGPIPE, SIG_IGN)
    }
}

/// Written only before the handlers are installed; read by them.
nonisolated(unsafe) private var signalWakeFD: Int32 = -1
/// Set by the signal handler (a plain store is async-signal-safe).
nonisolated(unsafe) private var stopRequested: sig_atomic_t = 0

/// JACK's death as libjack reports it, on a libjack thread.
final class JackLoss: Sendable {
    private let reason = Locked<String?>(nil)
    private let wakeFD: Int32

    init(wake: WakePipe) { wakeFD = wake.write }

    var lost: String? { reason.withLock { $0 } }

    func report(_ text: String) {
        reason.withLock { $0 = text }
        var byte: UInt8 = 2
        _ = write(wakeFD, &byte, 1)
        // The serving thread may be inside a libjack call that never returns now: exit regardless.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.5)
            FileHandle.standardError.write(Data("marlise-host: JACK went away (\(text)); exiting\n".utf8))
            _exit(HostServer.jackLostStatus)
        }
    }
}

/// The sockets and their buffers; all on the serving thread.
struct ServerLoop {
    private let host: Host
    private let wake: WakePipe
    private let logger: Logger
    private let commandListener: Int32
    private let feedbackListener: Int32?
    /// Each command client's commands, cut at their NULs; a command longer than ``commandLimit``
    /// without its NUL is refused and dropped.
    private var commandClients: [Int32: NULFramer] = [:]
    /// Feedback readers and what is still to be sent to each.
    private var feedbackClients: [Int32: [UInt8]] = [:]
    /// The most bytes held for one client: an unfinished command, or feedback it has not read.
    static let commandLimit = 1 << 20

    init(configuration: HostConfiguration, host: Host, wake: WakePipe, logger: Logger) throws(HostFailure) {
        self.host = host
        self.wake = wake
        self.logger = logger
        commandListener = try listenTCP(address: configuration.bindAddress, port: configuration.commandPort)
        feedbackListener =
            configuration.feedbackPort == 0
            ? nil : try listenTCP(address: configuration.bindAddress, port: configuration.feedbackPort)
    }

    mutating func serve(jackLost: JackLoss) -> Int32 {
        while true {
            if stopRequested != 0 {
                logger.info("stopping on signal")
                closeAll()
                return 0
            }
            if let reason = jackLost.lost {
                logger.critical("JACK went away: \(reason)")
                host.feedback.append("log 3 JACK server went away: \(reason)")
                flushFeedback()
                closeAll()
                return HostServer.jackLostStatus
            }
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            fds.append(pollfd(fd: commandListener, events: Int16(POLLIN), revents: 0))
            if let feedbackListener { fds.append(pollfd(fd: feedbackListener, events: Int16(POLLIN), revents: 0)) }
            for fd in commandClients.keys { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            for (fd, pending) in feedbackClients {
                let events = Int16(POLLIN) | (pending.isEmpty ? 0 : Int16(POLLOUT))
                fds.append(pollfd(fd: fd, events: events, revents: 0))
            }
            // Output monitors and feedback are looked at every 20 ms at the latest.
            _ = poll(&fds, nfds_t(fds.count), 20)
            for entry in fds where entry.revents != 0 {
                if entry.fd == wake.read {
                    wake.drain()
                } else if entry.fd == commandListener {
                    while let fd = acceptConnection(commandListener) {
                        commandClients[fd] = NULFramer(limit: Self.commandLimit)
                    }
                } else if entry.fd == feedbackListener {
                    while let fd = acceptConnection(entry.fd) {
                        feedbackClients[fd] = []
                        host.feedback.readerConnected()
                    }
                } else if commandClients[entry.fd] != nil {
                    readCommands(entry.fd)
                    if host.quitRequested {
                        logger.info("quit requested")
                        closeAll()
                        return 0
                    }
                } else if feedbackClients[entry.fd] != nil {
                    serviceFeedbackReader(entry.fd, revents: entry.revents)
                }
            }
            host.pollOutputs()
            flushFeedback()
        }
    }

    /// Reads what arrived and answers every complete (NUL-terminated) command in order.
    private mutating func readCommands(_ fd: Int32) {
        guard let bytes = receive(fd) else { return }
        if bytes.isEmpty {
            // Gone, perhaps mid-command: an unfinished command is dropped, never run.
            close(fd)
            commandClients[fd] = nil
            return
        }
        // Taken out while in use, so appending does not copy the buffer the dictionary still holds.
        var framer = commandClients.removeValue(forKey: fd) ?? NULFramer(limit: Self.commandLimit)
        framer.append(bytes)
        var replies: [UInt8] = []
        do {
            while let command = try framer.next() {
                replies += NULFramer.frame(host.execute(String(decoding: command, as: UTF8.self)).text)
                if host.quitRequested { break }
            }
        } catch {
            replies += NULFramer.frame(ModHostReply.parserError(.invalidArgument).text)
        }
        commandClients[fd] = framer
        if !replies.isEmpty && !sendAll(fd, replies) {
            close(fd)
            commandClients[fd] = nil
        }
    }

    /// Replies are small; a client that does not read them within a second is dropped.
    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        let deadline = ContinuousClock.now + .seconds(1)
        while offset < bytes.count {
            guard let sent = sendSome(fd, bytes[offset...]) else { return false }
            offset += sent
            if sent == 0 {
                guard ContinuousClock.now < deadline else { return false }
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, 50)
            }
        }
        return true
    }

    /// A feedback reader only reads; anything it sends is ignored, and its end is noticed.
    private mutating func serviceFeedbackReader(_ fd: Int32, revents: Int16) {
        if revents & Int16(POLLIN) != 0 || revents & Int16(POLLHUP | POLLERR) != 0 {
            if let bytes = receive(fd), bytes.isEmpty {
                dropFeedbackReader(fd)
                return
            }
        }
        if revents & Int16(POLLOUT) != 0 { writeFeedback(fd) }
    }

    /// Sends a waiting batch to every reader (once there is one).
    private mutating func flushFeedback() {
        guard !feedbackClients.isEmpty, let batch = host.feedback.nextBatch() else { return }
        let bytes: [UInt8] = batch.flatMap(NULFramer.frame)
        for fd in feedbackClients.keys {
            feedbackClients[fd]?.append(contentsOf: bytes)
            writeFeedback(fd)
        }
    }

    private mutating func writeFeedback(_ fd: Int32) {
        guard let pending = feedbackClients[fd], !pending.isEmpty else { return }
        guard let sent = sendSome(fd, pending[...]) else {
            dropFeedbackReader(fd)
            return
        }
        feedbackClients[fd]?.removeFirst(sent)
        if (feedbackClients[fd]?.count ?? 0) > Self.commandLimit {
            logger.warning("feedback reader is not reading; dropped")
            dropFeedbackReader(fd)
        }
    }

    /// mod-host spins at 100 % CPU when this happens; here the reader is simply forgotten.
    private mutating func dropFeedbackReader(_ fd: Int32) {
        close(fd)
        feedbackClients[fd] = nil
    }

    private mutating func closeAll() {
        for fd in commandClients.keys { close(fd) }
        for fd in feedbackClients.keys { close(fd) }
        commandClients.removeAll()
        feedbackClients.removeAll()
        close(commandListener)
        if let feedbackListener { close(feedbackListener) }
    }
}
