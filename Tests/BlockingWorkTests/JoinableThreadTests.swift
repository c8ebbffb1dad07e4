import BlockingWork
import Foundation
import Synchronization
import Testing

@Suite("JoinableThread")
struct JoinableThreadTests {
    @Test func runsOnANamedThreadOfItsOwnAndJoinWaitsForTheEnd() {
        let seen = Mutex<(name: String?, finished: Bool)>((nil, false))
        let thread = JoinableThread(name: "archive read") {
            let name = Gate.currentThreadName()
            usleep(50_000)
            seen.withLock { $0 = (name, true) }
        }
        thread.join()
        #expect(seen.withLock { $0.finished }, "join returns only after the work has returned")
        #expect(seen.withLock { $0.name } == "archive read")
        thread.join()  // a second join returns at once
    }
}
