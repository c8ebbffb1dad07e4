import Foundation

/// Hands an archive's entries and bytes from the thread that decompresses and parses it to the
/// thread that uses them (hashes, writes), in order, through a fixed set of buffers that go
/// round: memory stays at `slots × slotSize` whatever the archive's size, and nothing is
/// allocated per block. A buffer holds at most one entry's header, first, then bytes of that
/// entry; a long entry goes on in the buffers after it, without a header.
///
/// Either side can stop the other, and neither is left waiting: `finish(failure:)` ends the
/// stream (the failure comes out after everything sent before it, as on one thread);
/// `stop()` — the consumer gave up — makes the producer's current or next wait throw `Stopped`.
///
/// `@unchecked Sendable`: the queues and flags are only touched under `condition`; a buffer's
/// contents only by the side that holds it — the producer from taking it off `free` until it
/// puts it on `filled`, the consumer from `next()` until `release` — and `current` only by the
/// producer. The lock hand-over orders each buffer's writes before the other side's reads.
final class BlockPipeline: @unchecked Sendable {
    /// The producer stops: the consumer gave up.
    struct Stopped: Error {}

    /// An entry as it begins, with the modification time its header stores.
    struct Header {
        let entry: ArchiveEntry
        let time: timespec
    }

    final class Slot {
        fileprivate let storage: UnsafeMutableRawPointer
        fileprivate let capacity: Int
        fileprivate(set) var count = 0
        fileprivate(set) var header: Header?

        fileprivate init(capacity: Int) {
            self.capacity = capacity
            storage = .allocate(byteCount: capacity, alignment: 64)
        }

        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }
        fileprivate var isEmpty: Bool { header == nil && count == 0 }
    }

    /// 16 × 256 KiB = 4 MiB in flight: a buffer fits a core's L2 cache, where the consumer's
    /// hashing leaves it for the write that follows.
    static let defaultSlots = 16
    static let defaultSlotSize = 256 << 10

    private let condition = NSCondition()
    private let all: [Slot]
    private var free: [Slot]
    /// Handed over, not yet taken: a ring of `all.count` places, oldest at `filledHead`.
    private var filled: [Slot?]
    private var filledHead = 0
    private var filledCount = 0
    private var finished = false
    private var failure: (any Error)?
    private var stopped = false
    /// The producer's buffer being filled.
    private var current: Slot?

    init(slots: Int = defaultSlots, slotSize: Int = defaultSlotSize) {
        precondition(slots > 0 && slotSize > 0, "a pipeline needs a buffer")
        all = (0..<slots).map { _ in Slot(capacity: slotSize) }
        free = all
        filled = Array(repeating: nil, count: slots)
    }

    deinit {
        for slot in all { slot.storage.deallocate() }
    }

    // MARK: producer

    /// Starts an entry in a buffer of its own.
    func begin(_ header: Header) throws(Stopped) {
        if let current, !current.isEmpty {
            publish(current)
            self.current = nil
        }
        let slot: Slot
        if let current { slot = current } else { slot = try takeFree() }
        slot.header = header
        current = slot
    }

    /// Copies bytes of the current entry, handing over each buffer as it fills.
    func append(_ bytes: UnsafeRawBufferPointer) throws(Stopped) {
        var remaining = bytes
        while !remaining.isEmpty {
            if let full = current, full.count == full.capacity {
                publish(full)
                current = nil
            }
            let slot: Slot
            if let current { slot = current } else { slot = try takeFree() }
            current = slot
            let count = min(remaining.count, slot.capacity - slot.count)
            (slot.storage + slot.count).copyMemory(from: remaining.baseAddress!, byteCount: count)
            slot.count += count
            remaining = UnsafeRawBufferPointer(rebasing: remaining[count...])
        }
    }

    /// Ends the stream after what was sent, with the producer's error if it failed. Never waits.
    func finish(failure: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        if let current, !current.isEmpty { enqueue(current) }
        current = nil
        finished = true
        self.failure = failure
        condition.signal()
    }

    private func takeFree() throws(Stopped) -> Slot {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !stopped { condition.wait() }
        guard !stopped else { throw Stopped() }
        return free.removeLast()
    }

    private func publish(_ slot: Slot) {
        condition.lock()
        enqueue(slot)
        condition.signal()
        condition.unlock()
    }

    /// Under the lock. There is always room: every slot is in one place at a time.
    private func enqueue(_ slot: Slot) {
        filled[(filledHead + filledCount) % filled.count] = slot
        filledCount += 1
    }

    // MARK: consumer

    /// The next buffer, in order; nil at the end of the stream, or the producer's error once
    /// everything sent before it has come out. Give each buffer back with `release`.
    func next() throws -> Slot? {
        condition.lock()
        defer { condition.unlock() }
        while filledCount == 0 && !finished { condition.wait() }
        if filledCount > 0 {
            let slot = filled[filledHead]!
            filled[filledHead] = nil
            filledHead = (filledHead + 1) % filled.count
            filledCount -= 1
            return slot
        }
        if let failure { throw failure }
        return nil
    }

    func release(_ slot: Slot) {
        slot.count = 0
        slot.header = nil
        condition.lock()
        free.append(slot)
        condition.signal()
        condition.unlock()
    }

    /// The consumer gives up: the producer stops at its next wait, or now if it is waiting.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
