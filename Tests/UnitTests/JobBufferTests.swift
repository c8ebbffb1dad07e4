@testable import Runtime
import Testing

@Suite("Job buffer")
struct JobBufferTests {
    @Test func twoDispatchersNeverReserveTheSameRoom() {
        let buffer = JobBuffer(slots: 2, prefetch: 8)
        let first = try! #require(buffer.reserve())
        #expect(first.anyKind == 2)
        #expect(first.ahead == 8)
        // The first claim covers every idle slot and the whole read-ahead: nothing left to claim.
        #expect(buffer.reserve() == nil)
        #expect(!buffer.isEmpty, "a claim is in flight")
        // The claim came back empty: its room is free again.
        #expect(buffer.put([], for: first).isEmpty)
        #expect(buffer.isEmpty)
        let second = try! #require(buffer.reserve())
        #expect(second.anyKind == 2)
        _ = buffer.put([], for: second)
    }

    @Test func withoutReadAheadOnlyIdleSlotsAreClaimedFor() {
        let buffer = JobBuffer(slots: 3, prefetch: 0)
        let reservation = try! #require(buffer.reserve())
        #expect(reservation.anyKind == 3)
        #expect(reservation.ahead == 0)
        #expect(buffer.reserve() == nil)
        _ = buffer.put([], for: reservation)
    }

    @Test func aClosedBufferHandsOutNothingAndReleasesIdleSlots() async {
        let buffer = JobBuffer(slots: 1, prefetch: 4)
        let reservation = try! #require(buffer.reserve())
        async let taken = buffer.take()
        try? await Task.sleep(for: .milliseconds(50))
        #expect(buffer.close().isEmpty)
        #expect(await taken == nil)
        #expect(buffer.put([], for: reservation).isEmpty)
    }
}
