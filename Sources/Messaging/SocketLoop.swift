import Foundation
import Synchronization

/// The work of one socket-owning thread: a socket, reactions to its input, to posted commands and
/// to deadlines.
///
/// The loop object is created on its thread and never leaves it, so the socket it holds is touched
/// by exactly one thread for its whole life.
package protocol SocketLoop: AnyObject, SendableMetatype {
    associatedtype Command: Sendable

    /// The socket to watch for input; may change between iterations (a reopened REQ socket), or be
    /// absent while there is none.
    var socket: ZMQSocket? { get }
    /// A plain file descriptor to watch for input instead (a TCP connection), if any.
    var descriptor: Int32? { get }
    /// How long to sleep at most before ``deadlinePassed()``; `nil` sleeps until input or a command.
    var nextTimeout: Duration? { get }
    /// Receive everything now waiting on ``socket`` (or ``descriptor``).
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
    package var descriptor: Int32? { nil }
    package var nextTimeout: Duration? { nil }
    package func deadlinePassed() {}
    package func abandon(_ commands: [Command]) {}
}

/// A socket loop's handle: its mailbox, and a way to wait until it has stopped.
///
/// The loop runs on a ``LoopThread``: one of its own by default, or one shared with other loops
/// (and an actor) so that work passing between them never changes threads.
package final class SocketThread<Command: Sendable>: Sendable {
    package let mailbox = Mailbox<Command>()
    private let finished = OneShot<Void>()
    /// The thread, kept alive while the loop may still run on it.
    private let thread: LoopThread

    private init(thread: LoopThread) { self.thread = thread }

    /// Builds the loop with `makeLoop` on `thread` (a new one named `name` when nil) and serves it
    /// there until it stops.
    ///
    /// Waits (without blocking the caller's thread) until `makeLoop` has run, and rethrows its error,
    /// so a bind failure surfaces at start. Returns what `describe` says of the loop (its endpoint).
    package static func start<Loop: SocketLoop, Info: Sendable>(
        name: String,
        on thread: LoopThread? = nil,
        makeLoop: @Sendable @escaping (Mailbox<Command>) throws(ZMQError) -> Loop,
        describe: @Sendable @escaping (Loop) throws(ZMQError) -> Info
    ) async throws(ZMQError) -> (SocketThread, Info) where Loop.Command == Command {
        let owner = SocketThread(thread: thread ?? LoopThread(name: name, stopsWhenEmpty: true))
        let started = OneShot<Result<Info, ZMQError>>()
        owner.thread.host { [finished = owner.finished] in
            do throws(ZMQError) {
                let loop = try makeLoop(owner.mailbox)
                started.fulfil(.success(try describe(loop)))
                return HostedLoop(loop, mailbox: owner.mailbox, finished: finished)
            } catch {
                started.fulfil(.failure(error))
                owner.mailbox.close()
                finished.fulfil(())
                return nil
            }
        }
        let outcome: Result<Info, ZMQError>
        do {
            outcome = try await started.value
        } catch {
            // Cancelled while the loop was starting: it stops as soon as it sees the closed mailbox.
            owner.mailbox.close()
            throw ZMQError(operation: "start \(name)", errno: ECANCELED, message: "cancelled while starting")
        }
        return (owner, try outcome.get())
    }

    /// Builds the loop on `thread` (a new one named `name` when nil) and serves it, without waiting.
    package static func launch<Loop: SocketLoop>(
        name: String,
        on thread: LoopThread? = nil,
        makeLoop: @Sendable @escaping (Mailbox<Command>) -> Loop
    ) -> SocketThread where Loop.Command == Command {
        let owner = SocketThread(thread: thread ?? LoopThread(name: name, stopsWhenEmpty: true))
        owner.thread.host { [finished = owner.finished] in
            HostedLoop(makeLoop(owner.mailbox), mailbox: owner.mailbox, finished: finished)
        }
        return owner
    }

    /// Waits until the loop has stopped and closed its socket.
    /// A cancelled wait returns at once; the loop still stops by itself.
    package func join() async { try? await finished.value }

    package var isFinished: Bool { finished.current != nil }
}

extension HostedLoop {
    /// A ``SocketLoop`` with its mailbox, as its ``LoopThread`` serves it.
    ///
    /// Closures made here, where `Loop` is known, rather than a generic class seen through a
    /// protocol: the thread calls these after every piece of work, and unspecialised generic code
    /// would look up its metadata at run time on every call.
    fileprivate convenience init<Loop: SocketLoop>(
        _ loop: Loop,
        mailbox: Mailbox<Loop.Command>,
        finished: OneShot<Void>
    ) {
        mailbox.becomeOwner()
        self.init(
            wakeupDescriptor: mailbox.fileDescriptor,
            socket: { loop.socket },
            descriptor: { loop.descriptor },
            nextTimeout: { loop.nextTimeout },
            socketReadable: { () throws(ZMQError) in try loop.socketReadable() },
            drain: { clearing in
                // Drained even when the eventfd was quiet: this thread's own posts do not signal it.
                let commands = mailbox.drain(clearing: clearing)
                if !commands.isEmpty, !loop.handle(commands) { return (true, false) }
                return (!commands.isEmpty, !mailbox.isClosed)
            },
            deadlinePassed: { loop.deadlinePassed() },
            finish: {
                loop.close()
                loop.abandon(mailbox.close())
                finished.fulfil(())
            }
        )
    }
}
