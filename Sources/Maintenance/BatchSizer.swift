/// Chooses how many rows the next retention batch covers, from how long the last one took.
/// The first batch is small so a cold cache never makes a long first transaction; while batches
/// stay fast the size at most doubles, so it reaches its working size in a handful of batches;
/// a slow batch shrinks the next one at once. The working size aims at half the target batch
/// time: a batch slowed twofold (lock waits, a checkpoint, a busy CPU) still stays within the
/// target, and batches are not so small that their per-statement cost shows in the throughput.
struct BatchSizer: Sendable, Equatable {
    let targetMs: Double
    let maximum: Int
    private(set) var size: Int

    static let minimum = 10

    init(first: Int, targetMs: Int, maximum: Int = 1_000_000) {
        self.targetMs = Double(max(1, targetMs))
        self.maximum = max(Self.minimum, maximum)
        size = min(max(Self.minimum, first), self.maximum)
    }

    /// The aim for one batch's transaction time.
    var aimMs: Double { targetMs / 2 }

    /// Records that a batch covering `rows` rows took `milliseconds`; sets the next size.
    mutating func record(rows: Int, milliseconds: Double) {
        guard rows > 0 else { return }
        let perRow = max(milliseconds, 0.05) / Double(rows)
        let fitting = aimMs / perRow
        size = Int(min(fitting, Double(rows) * 2, Double(maximum)).rounded(.down))
        size = max(Self.minimum, size)
    }
}
