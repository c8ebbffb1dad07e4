import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way off Swift's cooperative pool for blocking work: libpq calls, waits for child
/// processes, libarchive and file hashing, /proc and /sys reads, TCP probes, libcurl transfers.
///
/// Threads start when work arrives and no idle one is left, and end after `idleTimeout`
/// without work. An idle thread sleeps on a semaphore of its own until work is handed to it or
/// its one deadline passes: no spinning, no periodic wake-up. The thread that became idle last
/// is used first, so the ones not needed any more are the ones that time out. Work of a lane
/// starts in the order it was submitted.
///
/// Two lanes, each with a bound of its own, because blocking here means long: a libpq call
/// lasts as long as its statement (a VACUUM: an hour), a child wait as long as pg_dump, a
/// LISTEN waits in `poll()`. Under one shared bound, enough long job work would leave lease
/// renewal waiting for a thread until the lease expired and a reaper took the running jobs
/// away. A lane never waits for the other's threads:
/// - `control`: the worker's own connections (heartbeat and lease renewal, reaper, scheduler,
///   listener, two claims, outcomes). There are at most seven and each makes one call at a
///   time (`BlockingSerialQueue`), so with 16 threads a control call never waits, whatever the
///   jobs do.
/// - `jobs`: everything else. 256 threads: every slot of the largest worker (64) blocked in
///   four things at once (statement, child wait, archive step, probe). Past that, work waits
///   its turn instead of adding threads without end. Timeouts and cancels still get through a
///   full lane: cancel requests have a thread of their own (`CancelSender`), child processes
///   are stopped by signals, transfers by a flag.
///
/// The bound is on the work running per lane; threads are shared, an idle one takes work of
/// either lane. Work is never dropped: cancelling the awaiting task is the work's business.
public final class BlockingExecutor: Sendable {
    public enum Lane: Int, Sendable, CaseIterable {
        /// The worker's own bookkeeping; a fixed, small number of callers.
        case control
        /// Everything else: job statements, child processes, archive work, probes, transfers.
        case jobs
    }

    /// What a lane is doing now; for tests and diagnostics.
    public struct Usage: Sendable, Equatable {
        public var running: Int
        public var waiting: Int

        public init(running: Int, waiting: Int) {
            self.running = running
            self.waiting = waiting
        }
    }

    private struct State {
        var running: [Int]
        var waiting: [WorkQueue<Item>]
        /// Idle threads, the one that became idle last at the end.
        var idle: [WorkerThread] = []
        var threads = 0
    }

    /// The process's executor.
    public static let shared = BlockingExecutor()

    public let idleTimeout: Duration
    private let limits: [Int]
    private let state: Mutex<State>

    public init(controlThreads: Int = 16, jobThreads: Int = 256, idleTimeout: Duration = .seconds(30)) {
        precondition(controlThreads > 0 && jobThreads > 0, "every lane needs a thread")
        self.idleTimeout = idleTimeout
        limits = [controlThreads, jobThreads]
        state = Mutex(State(
            running: Array(repeating: 0, count: Lane.allCases.count),
            waiting: Array(repeating: WorkQueue(), count: Lane.allCases.count)
        ))
    }

    /// Runs `work` on a thread of `lane` and returns what it returned or threw.
    public func run<T: Sendable, E: Error>(_ lane: Lane = .jobs, _ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
            submit(Item(lane: lane) {
                let result = Result { () throws(E) -> T in try work() }
                return { continuation.resume(returning: result) }
            })
        }
        return try result.get()
    }

    /// Starts `work` on a thread of `lane` and returns at once.
    public func execute(_ lane: Lane = .jobs, _ work: @escaping @Sendable () -> Void) {
        submit(Item(lane: lane) {
            work()
            return nil
        })
    }

    /// Starts `work` on a thread of `lane`; the completion it returns runs once that thread is
    /// free again (see `Completion`).
    func execute(_ lane: Lane, returningCompletion work: @escaping @Sendable () -> Completion?) {
        submit(Item(lane: lane, work: work))
    }

    public func usage(of lane: Lane) -> Usage {
        state.withLock { Usage(running: $0.running[lane.rawValue], waiting: $0.waiting[lane.rawValue].count) }
    }

    /// Threads alive now, busy or idle.
    public var threadCount: Int { state.withLock { $0.threads } }

    public func limit(of lane: Lane) -> Int { limits[lane.rawValue] }

    private enum Placement {
        case queued
        case handed(WorkerThread)
        case newThread
    }

    private func submit(_ item: Item) {
        let lane = item.lane.rawValue
        let placement = state.withLock { state -> Placement in
            guard state.running[lane] < limits[lane] else {
                state.waiting[lane].append(item)
                return .queued
            }
            state.running[lane] += 1
            if let worker = state.idle.popLast() { return .handed(worker) }
            state.threads += 1
            return .newThread
        }
        switch placement {
        case .queued: break
        case .handed(let worker): worker.hand(item)
        case .newThread: start(WorkerThread(), with: item)
        }
    }

    /// The body of every thread: runs what it is given, then what its lane has waiting, then
    /// sleeps until handed more or its idle time is up.
    fileprivate func work(on worker: WorkerThread, startingWith first: Item) {
        var item = first
        while true {
            let completion = item.work()
            guard let next = next(after: item.lane, on: worker, completing: completion) else { return }
            item = next
        }
    }

    private func next(after lane: Lane, on worker: WorkerThread, completing completion: Completion?) -> Item? {
        let queued = state.withLock { state -> Item? in
            // Work waits only while its lane is full: the place just freed passes straight on.
            if let queued = state.waiting[lane.rawValue].popFirst() { return queued }
            state.running[lane.rawValue] -= 1
            state.idle.append(worker)
            return nil
        }
        // The awaiting task resumes only once this thread is idle, so the call it makes next
        // finds it here (no second thread for calls one after another, no lock to wait for).
        completion?()
        if let queued { return queued }
        let (seconds, attoseconds) = idleTimeout.components
        let deadline = DispatchTime.now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        if let item = worker.waitForWork(until: deadline) { return item }
        let ends = state.withLock { state -> Bool in
            guard let index = state.idle.firstIndex(where: { $0 === worker }) else { return false }
            state.idle.remove(at: index)
            state.threads -= 1
            return true
        }
        // Taken off the idle list just as its time ran out: the work handed to it is on its way.
        return ends ? nil : worker.waitForWork()
    }

    private func start(_ worker: WorkerThread, with item: Item) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let start = Unmanaged.passRetained(ThreadStart(executor: self, worker: worker, item: item))
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        // On a temporary shortage (EAGAIN) wait a little and try again, as libdispatch does,
        // rather than lose the work.
        while pthread_create(&thread, &attributes, threadEntry, start.toOpaque()) != 0 {
            usleep(10_000)
        }
    }
}

extension BlockingExecutor {
    /// What runs once a thread has finished a piece of work and is free again: resuming the task
    /// that awaits the result.
    @usableFromInline typealias Completion = @Sendable () -> Void
}

/// A piece of work; it returns its completion, if any, instead of running it itself.
private struct Item: Sendable {
    let lane: BlockingExecutor.Lane
    let work: @Sendable () -> BlockingExecutor.Completion?
}

private final class ThreadStart {
    let executor: BlockingExecutor
    let worker: WorkerThread
    let item: Item

    init(executor: BlockingExecutor, worker: WorkerThread, item: Item) {
        self.executor = executor
        self.worker = worker
        self.item = item
    }
}

#if canImport(Darwin)
private func threadEntry(_ argument: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
    pthread_setname_np("blocking-work")
    let start = Unmanaged<ThreadStart>.fromOpaque(argument).takeRetainedValue()
    start.executor.work(on: start.worker, startingWith: start.item)
    return nil
}
#else
private func threadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    _ = setThreadName?(pthread_self(), "blocking-work")
    let start = Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue()
    start.executor.work(on: start.worker, startingWith: start.item)
    return nil
}
#endif

#if !canImport(Darwin)
/// `pthread_setname_np`, which Swift's Glibc module does not export (it needs `_GNU_SOURCE`):
/// the name shows in `top -H` and `ps -T`. Looked up once; a null handle is RTLD_DEFAULT.
let setThreadName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
    guard let symbol = dlsym(nil, "pthread_setname_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
}()
#endif

/// One thread's wake-up: the work handed to it while it was idle, and the semaphore it sleeps
/// on. Each hand-over signals once and is waited for once; a signal that comes before the wait
/// (the usual case when calls follow one another) costs no system call on either side.
private final class WorkerThread: Sendable {
    private let wakeUp = DispatchSemaphore(value: 0)
    private let handedOver = Mutex<Item?>(nil)

    func hand(_ item: Item) {
        handedOver.withLock { $0 = item }
        wakeUp.signal()
    }

    /// The work handed over by `deadline`, or nil.
    func waitForWork(until deadline: DispatchTime) -> Item? {
        guard wakeUp.wait(timeout: deadline) == .success else { return nil }
        return take()
    }

    /// For a thread already taken off the idle list: its work is coming.
    func waitForWork() -> Item {
        wakeUp.wait()
        return take()!
    }

    private func take() -> Item? {
        handedOver.withLock { item in
            defer { item = nil }
            return item
        }
    }
}
