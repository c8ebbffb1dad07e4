@testable import Maintenance
import Testing

@Suite("Retention batch sizing")
struct BatchSizerTests {
    @Test func startsSmallAndAtMostDoublesWhileBatchesAreFast() {
        var sizer = BatchSizer(first: 1000, targetMs: 50)
        var sizes = [sizer.size]
        for _ in 0..<5 {
            sizer.record(rows: sizer.size, milliseconds: 0.5)  // far under the target
            sizes.append(sizer.size)
        }
        #expect(sizes == [1000, 2000, 4000, 8000, 16000, 32000])
    }

    @Test func settlesAtHalfTheTargetAndShrinksAtOnceWhenSlow() {
        var sizer = BatchSizer(first: 40000, targetMs: 40)
        sizer.record(rows: 40000, milliseconds: 40)  // 1 us a row: 20 ms fit 20,000 rows
        #expect(sizer.size == 20000)
        sizer.record(rows: 20000, milliseconds: 200)  // ten times slower now
        #expect(sizer.size == 2000)
        sizer.record(rows: 2500, milliseconds: 50_000)  // never below the minimum
        #expect(sizer.size == BatchSizer.minimum)
    }

    @Test func neverExceedsTheMaximum() {
        var sizer = BatchSizer(first: 600, targetMs: 1000, maximum: 1000)
        sizer.record(rows: 600, milliseconds: 1)
        #expect(sizer.size == 1000)
    }
}
