import CLilv
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// LV2's worker (`work:schedule`) for one instance: `run` schedules work into a ring, a thread
/// of its own calls the plugin's `work`, and the responses wait in another ring for the
/// instance's next cycle to hand them to `work_response`. What `run` calls neither allocates
/// nor locks.
public final class PluginWorker: @unchecked Sendable {  // Made, started and stopped by one owner thread.
    /// The feature's data, which the plugin keeps.
    let schedule: UnsafeMutablePointer<LV2_Worker_Schedule>
    /// What the audio thread calls after `run`.
    public let realtime: UnsafeMutablePointer<RealtimeWorker>
    private var thread: pthread_t?

    /// Bytes of each ring: a request is a few atoms (a path), a response a pointer or two.
    static let ringCapacity = 16384

    public init() {
        let wake = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        sem_init(wake, 0, 0)
        let stopping = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
        stopping.initialize(to: Atomic(false))
        realtime = .allocate(capacity: 1)
        realtime.initialize(
            to: RealtimeWorker(
                requests: .make(capacity: Self.ringCapacity),
                responses: .make(capacity: Self.ringCapacity),
                wake: wake,
                stopping: stopping,
                interface: nil,
                handle: nil,
                responseScratch: .allocate(byteCount: Self.ringCapacity, alignment: 8),
                requestScratch: .allocate(byteCount: Self.ringCapacity, alignment: 8)
            )
        )
        schedule = .allocate(capacity: 1)
        schedule.initialize(
            to: LV2_Worker_Schedule(handle: UnsafeMutableRawPointer(realtime), schedule_work: scheduleWork)
        )
    }

    /// `work:schedule`'s data, to offer while the instance is made (`HostFeatures.offerWorker`).
    public var scheduleFeature: UnsafeMutableRawPointer { UnsafeMutableRawPointer(schedule) }

    deinit {
        stop()
        let worker = realtime.pointee
        worker.requests.free()
        worker.responses.free()
        sem_destroy(worker.wake)
        worker.wake.deallocate()
        worker.stopping.deallocate()
        worker.responseScratch.deallocate()
        worker.requestScratch.deallocate()
        realtime.deallocate()
        schedule.deallocate()
    }

    /// Starts the worker thread if the plugin has a worker interface; before its first cycle.
    public func start(for plugin: LoadedPlugin) {
        guard thread == nil,
            let data = lilv_instance_get_extension_data(plugin.instance, "http://lv2plug.in/ns/ext/worker#interface")
        else { return }
        realtime.pointee.interface = data.assumingMemoryBound(to: LV2_Worker_Interface.self)
        realtime.pointee.handle = plugin.instance.pointee.lv2_handle
        var created = pthread_t()
        let result = pthread_create(&created, nil, workerLoop, UnsafeMutableRawPointer(realtime))
        if result == 0 { thread = created }
    }

    /// Stops the worker thread once the audio thread no longer runs the plugin, before the
    /// plugin is freed. Safe to call twice.
    public func stop() {
        guard let running = thread else { return }
        thread = nil
        realtime.pointee.stopping.pointee.store(true, ordering: .releasing)
        sem_post(realtime.pointee.wake)
        pthread_join(running, nil)
    }

    /// Once the audio thread and the worker thread have stopped, before the plugin is freed:
    /// hands every waiting response to `work_response` and does the work that asks for
    /// (freeing what was replaced), on this thread, as LV2 asks that no response be lost.
    public func finish() {
        stop()
        let worker = realtime.pointee
        guard let work = worker.interface?.pointee.work else { return }
        for _ in 0..<8 {
            worker.endCycle()
            guard worker.requests.readable > 0 else { return }
            while let size = worker.take(from: worker.requests, into: worker.requestScratch) {
                _ = work(worker.handle, respond, UnsafeMutableRawPointer(realtime), size, worker.requestScratch)
            }
        }
    }
}

/// The worker as the audio thread and the worker thread see it: plain pointers.
public struct RealtimeWorker {
    /// `[size: UInt32][bytes]` records: run → worker thread, and worker thread → run.
    var requests: ByteRing
    var responses: ByteRing
    var wake: UnsafeMutablePointer<sem_t>
    var stopping: UnsafeMutablePointer<Atomic<Bool>>
    var interface: UnsafePointer<LV2_Worker_Interface>?
    var handle: LV2_Handle?
    /// Each side's copy of the record it hands to the plugin (a ring record may wrap).
    var responseScratch: UnsafeMutableRawPointer
    var requestScratch: UnsafeMutableRawPointer

    /// After `run`: every waiting response goes to `work_response`, then `end_run` is called.
    @inline(__always) public func endCycle() {
        guard let interface else { return }
        if let respond = interface.pointee.work_response {
            while let size = take(from: responses, into: responseScratch) {
                _ = respond(handle, size, responseScratch)
            }
        }
        if let endRun = interface.pointee.end_run { _ = endRun(handle) }
    }

    /// The next record of `ring` copied into `scratch`, or nil when none is whole.
    @inline(__always) func take(from ring: ByteRing, into scratch: UnsafeMutableRawPointer) -> UInt32? {
        var size: UInt32 = 0
        guard withUnsafeMutableBytes(of: &size, { ring.peek(into: $0.baseAddress!, count: 4) }) else { return nil }
        guard ring.peek(into: scratch, count: Int(size), offset: 4) else {
            if Int(size) + 4 > ring.capacity { ring.clear() }  // cannot ever arrive whole
            return nil
        }
        ring.skip(4 + Int(size))
        return size
    }

    /// Appends one `[size][bytes]` record; false when it does not fit.
    @inline(__always) static func put(_ ring: ByteRing, _ size: UInt32, _ data: UnsafeRawPointer?) -> Bool {
        guard Int(size) + 4 <= ring.capacity / 2 else { return false }
        var header = size
        return withUnsafeBytes(of: &header) { header in
            ring.write(header, UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : Int(size)))
        }
    }
}

/// `schedule_work`, called from `run` (or a restore): the request waits for the worker thread.
private let scheduleWork: @convention(c) (LV2_Worker_Schedule_Handle?, UInt32, UnsafeRawPointer?) -> LV2_Worker_Status =
    { handle, size, data in
        guard let handle else { return LV2_WORKER_ERR_UNKNOWN }
        let worker = handle.assumingMemoryBound(to: RealtimeWorker.self).pointee
        guard RealtimeWorker.put(worker.requests, size, data) else { return LV2_WORKER_ERR_NO_SPACE }
        sem_post(worker.wake)
        return LV2_WORKER_SUCCESS
    }

/// `respond`, called from the plugin's `work` on the worker thread.
private let respond: @convention(c) (LV2_Worker_Respond_Handle?, UInt32, UnsafeRawPointer?) -> LV2_Worker_Status =
    { handle, size, data in
        guard let handle else { return LV2_WORKER_ERR_UNKNOWN }
        let worker = handle.assumingMemoryBound(to: RealtimeWorker.self).pointee
        return RealtimeWorker.put(worker.responses, size, data) ? LV2_WORKER_SUCCESS : LV2_WORKER_ERR_NO_SPACE
    }

/// The worker thread: waits for requests and hands each to the plugin's `work`, one at a time.
private let workerLoop: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { context in
    guard let context else { return nil }
    let pointer = context.assumingMemoryBound(to: RealtimeWorker.self)
    while true {
        sem_wait(pointer.pointee.wake)
        let worker = pointer.pointee
        if worker.stopping.pointee.load(ordering: .acquiring) { break }
        guard let work = worker.interface?.pointee.work else { continue }
        while let size = worker.take(from: worker.requests, into: worker.requestScratch) {
            _ = work(worker.handle, respond, context, size, worker.requestScratch)
        }
    }
    return nil
}
