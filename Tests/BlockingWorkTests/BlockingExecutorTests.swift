import BlockingWork
import Foundation
import Synchronization
import Testing

@Suite("BlockingExecutor")
struct BlockingExecutorTests {
    @Test func runsWorkOnItsOwnThreadsAndReturnsWhatItReturnsOrThrows() async throws {
        let executor = BlockingExecutor(controlThreads: 1, jobThreads: 1)
        let name = await executor.run(.jobs) { Gate.currentThreadName() }
        #expect(name == "blocking-work")
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused.self) {
            try await executor.run(.control) { () throws(Refused) -> Int in throw Refused() }
        }
    }

    @Test func neverRunsMoreWorkInALaneThanItsBound() async throws {
        let executor = BlockingExecutor(controlThreads: 1, jobThreads: 3)
        let gate = Gate()
        let peak = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask { await executor.run(.jobs) { peak.enter(); gate.wait(); peak.leave() } }
            }
            #expect(await waitUntil { executor.usage(of: .jobs) == .init(running: 3, waiting: 9) })
            #expect(executor.threadCount == 3)
            gate.open()
        }
        #expect(peak.highest == 3)
        #expect(executor.usage(of: .jobs) == .init(running: 0, waiting: 0))
    }

    @Test func startsTheWorkOfALaneInTheOrderItCame() async throws {
        let executor = BlockingExecutor(controlThreads: 1, jobThreads: 1)
        let gate = Gate()
        let order = Mutex<[Int]>([])
        let done = Counter()
        executor.execute(.jobs) { gate.wait() }
        for index in 0..<50 {
            executor.execute(.jobs) {
                order.withLock { $0.append(index) }
                done.enter()
            }
        }
        #expect(executor.usage(of: .jobs).waiting == 50)
        gate.open()
        #expect(await waitUntil { done.current == 50 })
        #expect(order.withLock { $0 } == Array(0..<50))
    }

    @Test func controlWorkRunsAtOnceWhileTheJobsLaneIsFullAndHasWorkWaiting() async throws {
        let executor = BlockingExecutor(controlThreads: 2, jobThreads: 4)
        let gate = Gate()
        for _ in 0..<10 { executor.execute(.jobs) { gate.wait() } }
        #expect(executor.usage(of: .jobs) == .init(running: 4, waiting: 6))
        let started = ContinuousClock.now
        for _ in 0..<20 {
            #expect(await executor.run(.control) { 1 } == 1)
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(executor.usage(of: .jobs) == .init(running: 4, waiting: 6))
        gate.open()
        #expect(await waitUntil { executor.usage(of: .jobs) == .init(running: 0, waiting: 0) })
    }

    @Test func reusesIdleThreadsAndEndsThemAfterTheIdleTimeout() async throws {
        let executor = BlockingExecutor(controlThreads: 2, jobThreads: 2, idleTimeout: .milliseconds(300))
        #expect(executor.threadCount == 0)
        for _ in 0..<200 {
            _ = await executor.run(.jobs) { 0 }
            _ = await executor.run(.control) { 0 }
        }
        // One call after another, of either lane: the caller resumes once the thread is idle
        // again, so every call finds it there.
        #expect(executor.threadCount == 1)
        #expect(await waitUntil(timeout: .seconds(5)) { executor.threadCount == 0 })
        #expect(await executor.run(.jobs) { 7 } == 7)
        #expect(executor.threadCount == 1)
    }
}

/// Lets blocked work go on when the test says so.
final class Gate: Sendable {
    private let condition = NSCondition()
    private let isOpen = Mutex(false)

    func wait() {
        condition.lock()
        defer { condition.unlock() }
        while !isOpen.withLock({ $0 }) { condition.wait() }
    }

    func open() {
        condition.lock()
        isOpen.withLock { $0 = true }
        condition.broadcast()
        condition.unlock()
    }

    static func currentThreadName() -> String {
        let name = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
        return name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }
}

/// How many are inside at once, and the most ever.
final class Counter: Sendable {
    private let state = Mutex((current: 0, highest: 0))

    func enter() {
        state.withLock { state in
            state.current += 1
            state.highest = max(state.highest, state.current)
        }
    }

    func leave() { state.withLock { $0.current -= 1 } }

    var current: Int { state.withLock { $0.current } }
    var highest: Int { state.withLock { $0.highest } }
}

func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return true
}
