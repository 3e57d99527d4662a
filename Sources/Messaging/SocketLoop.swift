import Foundation
import Synchronization

/// The work of one socket-owning thread: a socket, reactions to its input, to posted commands and
/// to deadlines.
///
/// The loop object is created on its thread and never leaves it, so the socket it holds is touched
/// by exactly one thread for its whole life.
protocol SocketLoop: AnyObject, SendableMetatype {
    associatedtype Command: Sendable

    /// The socket to watch for input; may change between iterations (a reopened REQ socket), or be
    /// absent while there is none.
    var socket: ZMQSocket? { get }
    /// How long to sleep at most before ``deadlinePassed()``; `nil` sleeps until input or a command.
    var nextTimeout: Duration? { get }
    /// Receive everything now waiting on ``socket``.
    func socketReadable() throws(ZMQError)
    /// Handle posted commands; return `false` to stop the loop.
    func handle(_ commands: [Command]) -> Bool
    /// Called after every wake-up, so deadlines are checked.
    func deadlinePassed()
    /// Called once the loop has stopped, on the loop's thread.
    func close()
    /// Commands that arrived after the loop stopped: answer whoever waits on them.
    func abandon(_ commands: [Command])
}

extension SocketLoop {
    var nextTimeout: Duration? { nil }
    func deadlinePassed() {}
    func abandon(_ commands: [Command]) {}
}

/// Starts socket-owning threads and tells their owners when they have stopped.
final class SocketThread<Command: Sendable>: Sendable {
    let mailbox = Mailbox<Command>()
    private let finished = OneShot<Void>()

    /// Runs `makeLoop` on a new thread and then serves that loop until it stops.
    ///
    /// Waits (without blocking the caller's thread) until `makeLoop` has run, and rethrows its error,
    /// so a bind failure surfaces at start. Returns what `describe` says of the loop (its endpoint).
    static func start<Loop: SocketLoop, Info: Sendable>(
        name: String,
        makeLoop: @Sendable @escaping (Mailbox<Command>) throws(ZMQError) -> Loop,
        describe: @Sendable @escaping (Loop) throws(ZMQError) -> Info
    ) async throws(ZMQError) -> (SocketThread, Info) where Loop.Command == Command {
        let owner = SocketThread()
        let started = OneShot<Result<Info, ZMQError>>()
        owner.spawn(name: name) {
            do throws(ZMQError) {
                let loop = try makeLoop(owner.mailbox)
                started.fulfil(.success(try describe(loop)))
                owner.run(loop)
            } catch {
                started.fulfil(.failure(error))
            }
        }
        let outcome: Result<Info, ZMQError>
        do {
            outcome = try await started.value
        } catch {
            // Cancelled while the thread was starting: it stops as soon as it sees the closed mailbox.
            owner.mailbox.close()
            throw ZMQError(operation: "start \(name)", errno: ECANCELED, message: "cancelled while starting")
        }
        return (owner, try outcome.get())
    }

    /// Runs `makeLoop` on a new thread and serves that loop until it stops, without waiting.
    static func launch<Loop: SocketLoop>(
        name: String,
        makeLoop: @Sendable @escaping (Mailbox<Command>) -> Loop
    ) -> SocketThread where Loop.Command == Command {
        let owner = SocketThread()
        owner.spawn(name: name) { owner.run(makeLoop(owner.mailbox)) }
        return owner
    }

    private func spawn(name: String, _ body: @Sendable @escaping () -> Void) {
        let thread = Thread { [finished] in
            body()
            finished.fulfil(())
        }
        thread.name = name
        thread.start()
    }

    private func run<Loop: SocketLoop>(_ loop: Loop) where Loop.Command == Command {
        defer {
            loop.close()
            loop.abandon(mailbox.close())
        }
        mailbox.becomeOwner()
        while true {
            var poller = Poller()
            let mailboxIndex = poller.add(fileDescriptor: mailbox.fileDescriptor)
            let socketIndex = loop.socket.map { poller.add($0) }
            do {
                try poller.wait(timeout: loop.nextTimeout)
                if let socketIndex, poller.isReadable(socketIndex) { try loop.socketReadable() }
                // Drain even when the eventfd was quiet: a handler that finished on this thread posted
                // its reply without signalling, and it is sent now rather than after another poll.
                // Until none is left: handling may post more from this thread, unsignalled (a
                // deferred reply's event), and those must not wait for the next wake-up.
                var commands = mailbox.drain(clearing: poller.isReadable(mailboxIndex))
                while !commands.isEmpty {
                    if !loop.handle(commands) { return }
                    commands = mailbox.drain(clearing: false)
                }
                if mailbox.isClosed { return }
            } catch {
                // A failing poll or receive on an owned socket means the context is gone: stop.
                return
            }
            loop.deadlinePassed()
        }
    }

    /// Waits until the thread has stopped and closed its socket.
    /// A cancelled wait returns at once; the thread still stops by itself.
    func join() async { try? await finished.value }

    var isFinished: Bool { finished.current != nil }
}
