import BlockingWork
import Foundation

/// Runs a producer (`fill(buffer) -> bytes written`, 0 at the end) on a thread of its own, up to
/// `slots` buffers ahead of whoever reads: an upload's producer takes bytes that were
/// encrypted and hashed on the other core while the previous ones went out over the network.
/// Memory stays at `slots × slotSize`.
///
/// The producer's error comes out of `read` after every byte produced before it. `close()`
/// stops the producer (at its next buffer) and joins its thread; call it before reading state
/// the producer wrote, which the join orders after its writes.
///
/// `@unchecked Sendable`: the queues and flags are only touched under `condition`; a buffer's
/// bytes only by the side holding it — the producer from taking it off `free` until it puts it
/// on `ready`, the reader from taking it off `ready` until it goes back to `free`.
package final class ReadAhead: @unchecked Sendable {
    private struct Filled {
        let buffer: UnsafeMutableRawBufferPointer
        let count: Int
    }

    private let condition = NSCondition()
    private let buffers: [UnsafeMutableRawBufferPointer]
    private var free: [UnsafeMutableRawBufferPointer]
    private var ready: [Filled] = []
    private var ended = false
    private var failure: (any Error)?
    private var stopped = false
    /// The reader's buffer and how far into it it is; only the reader touches these.
    private var reading: Filled?
    private var offset = 0
    private var thread: JoinableThread?

    package init(name: String, slots: Int = 4, slotSize: Int = 1 << 20, producer: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int) {
        precondition(slots > 0 && slotSize > 0, "read-ahead needs a buffer")
        buffers = (0..<slots).map { _ in .allocate(byteCount: slotSize, alignment: 64) }
        free = buffers
        thread = JoinableThread(name: name) { [self] in produce(producer) }
    }

    deinit {
        close()
        for buffer in buffers { buffer.deallocate() }
    }

    /// Fills `buffer` as far as the stream goes, waiting for the producer when it must; 0 at the end.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count {
            guard let current = reading else {
                let next: Filled?
                do {
                    next = try takeReady()
                } catch {
                    // The bytes already copied go out first; the error comes with the next call.
                    if written > 0 { return written }
                    throw error
                }
                guard let next else { break }
                reading = next
                offset = 0
                continue
            }
            let take = min(current.count - offset, buffer.count - written)
            UnsafeMutableRawBufferPointer(rebasing: buffer[written..<written + take])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: current.buffer[offset..<offset + take]))
            offset += take
            written += take
            if offset == current.count {
                giveBack(current.buffer)
                reading = nil
            }
        }
        return written
    }

    /// Stops the producer and waits for its thread. Idempotent.
    package func close() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        thread?.join()
        thread = nil
    }

    // MARK: - Producer side

    private func produce(_ producer: (UnsafeMutableRawBufferPointer) throws -> Int) {
        do {
            while let buffer = takeFree() {
                var count = 0
                var atEnd = false
                while count < buffer.count {
                    let produced = try producer(UnsafeMutableRawBufferPointer(rebasing: buffer[count...]))
                    if produced == 0 { atEnd = true; break }
                    count += produced
                }
                publish(Filled(buffer: buffer, count: count), atEnd: atEnd)
                if atEnd { return }
            }
        } catch {
            condition.lock()
            failure = error
            ended = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A free buffer, or nil once the reader stopped.
    private func takeFree() -> UnsafeMutableRawBufferPointer? {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && !stopped { condition.wait() }
        return stopped ? nil : free.removeLast()
    }

    private func publish(_ filled: Filled, atEnd: Bool) {
        condition.lock()
        if filled.count > 0 { ready.append(filled) } else { free.append(filled.buffer) }
        ended = atEnd
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - Reader side

    /// The next filled buffer; nil at the end; the producer's error once everything before it was read.
    private func takeReady() throws -> Filled? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !ended { condition.wait() }
        if !ready.isEmpty { return ready.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    private func giveBack(_ buffer: UnsafeMutableRawBufferPointer) {
        condition.lock()
        free.append(buffer)
        condition.broadcast()
        condition.unlock()
    }
}
