import BlockingWork
import Synchronization
import Testing

@Suite("BlockingSerialQueue")
struct BlockingSerialQueueTests {
    @Test func runsOneCallAtATimeInTheOrderTheyWereMade() async throws {
        let executor = BlockingExecutor(controlThreads: 1, jobThreads: 8)
        let queue = BlockingSerialQueue(executor: executor, lane: .jobs)
        let gate = Gate()
        let inside = Counter()
        let order = Mutex<[Int]>([])
        queue.execute { gate.wait() }
        for index in 0..<40 {
            queue.execute {
                inside.enter()
                order.withLock { $0.append(index) }
                inside.leave()
            }
        }
        gate.open()
        #expect(await waitUntil { order.withLock { $0.count } == 40 })
        #expect(order.withLock { $0 } == Array(0..<40))
        #expect(inside.highest == 1)
    }

    @Test func callsWaitingForTheirTurnHoldNoThread() async throws {
        // One thread in the lane: if waiting calls held one, the other queue could not run.
        let executor = BlockingExecutor(controlThreads: 1, jobThreads: 2)
        let busy = BlockingSerialQueue(executor: executor, lane: .jobs)
        let other = BlockingSerialQueue(executor: executor, lane: .jobs)
        let gate = Gate()
        for _ in 0..<10 { busy.execute { gate.wait() } }
        #expect(await waitUntil { executor.usage(of: .jobs).running == 1 })
        #expect(await other.run { 42 } == 42)
        #expect(executor.usage(of: .jobs) == .init(running: 1, waiting: 0))
        gate.open()
        #expect(await busy.run { 1 } == 1)
    }

    @Test func callsOneAfterAnotherUseOneThread() async throws {
        let executor = BlockingExecutor(controlThreads: 4, jobThreads: 4)
        let queue = BlockingSerialQueue(executor: executor, lane: .control)
        for index in 0..<500 {
            #expect(await queue.run { index } == index)
        }
        #expect(executor.threadCount == 1)
    }

    @Test func aCallCancelledWhileItWaitsForItsTurnNeverRuns() async throws {
        let executor = BlockingExecutor(controlThreads: 1, jobThreads: 1)
        let queue = BlockingSerialQueue(executor: executor, lane: .jobs)
        let gate = Gate()
        queue.execute { gate.wait() }
        let ran = Counter()
        let interrupted = Counter()
        let waiting = Task {
            await queue.run(cancellable: { ran.enter() }, onCancel: { interrupted.enter() })
        }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        #expect(await waiting.value == nil)
        gate.open()
        #expect(await queue.run { 1 } == 1)
        #expect(ran.current == 0)
        #expect(interrupted.current == 0)
    }

    @Test func aRunningCallIsInterruptedAndAnAlreadyCancelledTaskStillGetsItsCallRun() async throws {
        let queue = BlockingSerialQueue(executor: BlockingExecutor(controlThreads: 1, jobThreads: 1), lane: .jobs)
        let gate = Gate()
        let started = Counter()
        let running = Task {
            await queue.run(cancellable: { started.enter(); gate.wait(); return 7 }, onCancel: { gate.open() })
        }
        #expect(await waitUntil { started.current == 1 })
        running.cancel()
        #expect(await running.value == 7)

        let cleanup = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await queue.run(cancellable: { 8 }, onCancel: {})
        }
        #expect(await cleanup.value == 8)
    }

    @Test func passesErrorsThrough() async throws {
        struct Refused: Error {}
        let queue = BlockingSerialQueue(executor: BlockingExecutor(controlThreads: 1, jobThreads: 1), lane: .control)
        await #expect(throws: Refused.self) {
            try await queue.run { () throws(Refused) -> Int in throw Refused() }
        }
        #expect(await queue.run { 5 } == 5)
    }
}
