import Foundation

/// One thread that serves socket loops and runs Swift jobs: a single `zmq_poll` over every hosted
/// loop's socket and mailbox.
///
/// A service whose work passes from socket to socket (a request in, a call to another service out,
/// its reply, the answer and an event) puts those sockets, and the actor that decides, on one
/// `LoopThread`: then nothing on that path changes threads, and posts from the thread itself never
/// touch an eventfd. As a `SerialExecutor` it is an actor's executor; as a `TaskExecutor` it is where
/// a task's nonisolated code runs.
///
/// Work on this thread must not block: everything hosted here waits while it runs.
public final class LoopThread: SerialExecutor, TaskExecutor, Sendable {
    private let core: LoopCore

    /// Starts the thread. It runs until this object is released.
    public convenience init(name: String) {
        self.init(name: name, stopsWhenEmpty: false)
    }

    /// With `stopsWhenEmpty`, the thread ends once its last hosted loop has stopped (a socket's own
    /// thread); otherwise when this object is released.
    init(name: String, stopsWhenEmpty: Bool) {
        core = LoopCore(stopsWhenEmpty: stopsWhenEmpty)
        let thread = Thread { [core] in core.run() }
        thread.name = name
        thread.start()
    }

    deinit { core.work.post(.stop) }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let work = LoopCore.Work.job(job, asUnownedSerialExecutor(), asUnownedTaskExecutor())
        // Never dropped: a job still queued holds what keeps this thread running (an actor whose
        // executor this is, a task that prefers it).
        if !core.work.post(work) {
            preconditionFailure("a job was enqueued on a stopped LoopThread")
        }
    }

    public func checkIsolated() {
        precondition(core.work.isOwnedByCurrentThread, "not on the LoopThread that owns this state")
    }

    /// Hosts the loop `makeLoop` builds on the thread; the loop is served until its mailbox is
    /// closed or it stops itself.
    func host(_ makeLoop: @escaping @Sendable () -> HostedLoop?) {
        core.work.post(.host(makeLoop))
    }
}

/// What ``LoopThread`` serves: a socket loop seen without its command type (``SocketThread``).
/// Touched by the thread alone.
final class HostedLoop {
    let wakeupDescriptor: Int32
    let socket: () -> ZMQSocket?
    let descriptor: () -> Int32?
    let nextTimeout: () -> Duration?
    let socketReadable: () throws(ZMQError) -> Void
    /// Handles what was posted; `clearing` after its eventfd was seen readable. Returns whether
    /// anything was handled and whether the loop goes on.
    let drain: (_ clearing: Bool) -> (handled: Bool, running: Bool)
    let deadlinePassed: () -> Void
    /// The loop has stopped: close its socket and answer whatever still waits.
    let finish: () -> Void

    init(
        wakeupDescriptor: Int32,
        socket: @escaping () -> ZMQSocket?,
        descriptor: @escaping () -> Int32?,
        nextTimeout: @escaping () -> Duration?,
        socketReadable: @escaping () throws(ZMQError) -> Void,
        drain: @escaping (_ clearing: Bool) -> (handled: Bool, running: Bool),
        deadlinePassed: @escaping () -> Void,
        finish: @escaping () -> Void
    ) {
        self.wakeupDescriptor = wakeupDescriptor
        self.socket = socket
        self.descriptor = descriptor
        self.nextTimeout = nextTimeout
        self.socketReadable = socketReadable
        self.drain = drain
        self.deadlinePassed = deadlinePassed
        self.finish = finish
    }
}

/// The thread's own state. Everything but `work` is touched by the thread alone.
final class LoopCore: @unchecked Sendable {
    enum Work: Sendable {
        case job(UnownedJob, UnownedSerialExecutor, UnownedTaskExecutor)
        case host(@Sendable () -> HostedLoop?)
        case stop
    }

    let work = Mailbox<Work>()
    private let stopsWhenEmpty: Bool
    private var loops: [HostedLoop] = []
    private var stopping = false
    /// The last turn stopped at ``roundsBetweenPolls`` with work maybe still queued.
    private var leftOver = false
    static let roundsBetweenPolls = 64

    init(stopsWhenEmpty: Bool) { self.stopsWhenEmpty = stopsWhenEmpty }

    func run() {
        work.becomeOwner()
        defer {
            for loop in loops { loop.finish() }
            loops.removeAll()
            // Jobs and loops that came with or after the stop: jobs still run (their tasks would
            // otherwise wait for ever), loops are finished at once.
            for item in work.close() { perform(item, closing: true) }
        }
        while true {
            var poller = Poller()
            let workIndex = poller.add(fileDescriptor: work.fileDescriptor)
            var indexes: [(wakeup: Int, socket: Int?)] = []
            indexes.reserveCapacity(loops.count)
            for loop in loops {
                let wakeup = poller.add(fileDescriptor: loop.wakeupDescriptor)
                let input =
                    loop.socket().map { poller.add($0) } ?? loop.descriptor().map { poller.add(fileDescriptor: $0) }
                indexes.append((wakeup, input))
            }
            // Work left by a capped round below is not signalled: look at the sockets and go on.
            let timeout = leftOver ? .zero : loops.lazy.compactMap { $0.nextTimeout() }.min()
            do {
                try poller.wait(timeout: timeout)
            } catch {
                // A failing poll means the context is gone: nothing hosted here can go on.
                return
            }
            // Which loops were signalled, before any is removed and the indexes move.
            let signalled = Set(
                loops.indices.filter { poller.isReadable(indexes[$0].wakeup) }.map { ObjectIdentifier(loops[$0]) }
            )
            var stopped: [Int] = []
            for (index, loop) in loops.enumerated() {
                guard let socketIndex = indexes[index].socket, poller.isReadable(socketIndex) else { continue }
                do throws(ZMQError) {
                    try loop.socketReadable()
                } catch {
                    stopped.append(index)
                }
            }
            remove(stopped)
            // Until nothing is left: a job posts to a loop's mailbox from this thread without a
            // signal (a reply, a call), and handling a command may resume a job here.
            var clearWork = poller.isReadable(workIndex)
            var clearing = signalled
            var busy = true
            var rounds = 0
            // Capped, so work that keeps making work (a task that yields, say) cannot keep the
            // sockets from being read.
            while busy && rounds < Self.roundsBetweenPolls {
                busy = false
                rounds += 1
                for item in work.drain(clearing: clearWork) {
                    busy = true
                    perform(item, closing: false)
                }
                clearWork = false
                stopped = []
                for (index, loop) in loops.enumerated() {
                    let (handled, running) = loop.drain(clearing.remove(ObjectIdentifier(loop)) != nil)
                    busy = busy || handled
                    if !running { stopped.append(index) }
                }
                remove(stopped)
                if stopping { return }
            }
            leftOver = busy
            for loop in loops { loop.deadlinePassed() }
            if stopsWhenEmpty && loops.isEmpty { return }
        }
    }

    private func perform(_ item: Work, closing: Bool) {
        switch item {
        case .job(let job, let serial, let task):
            job.runSynchronously(isolatedTo: serial, taskExecutor: task)
        case .host(let makeLoop):
            guard let loop = makeLoop() else { return }
            if closing || stopping {
                loop.finish()
            } else {
                loops.append(loop)
            }
        case .stop:
            stopping = true
        }
    }

    private func remove(_ indexes: [Int]) {
        for index in indexes.reversed() {
            let loop = loops.remove(at: index)
            loop.finish()
        }
    }
}
