import BlockingWork
import CArchive
import Foundation

extension TarReader {
    /// Reads an archive end to end like `read(path:entry:data:)`, on two threads: a thread of
    /// its own (joined before this returns) decompresses and parses the tar while `entry` and
    /// `data` run on the caller's thread, at most a `BlockPipeline` (4 MiB) behind. Entries and
    /// bytes come in the archive's order; `data` sees an entry's bytes in pieces of up to
    /// 256 KiB. An error thrown by `entry` or `data` stops the reading thread and is rethrown
    /// once that thread has ended; an error reading the archive comes after everything read
    /// before it, as on one thread. Blocking; use it from a dedicated thread.
    public static func readPipelined(
        path: String,
        entry: (ArchiveEntry) throws -> Void = { _ in },
        data: (ArchiveEntry, UnsafeRawBufferPointer) throws -> Void = { _, _ in }
    ) throws {
        var current: ArchiveEntry?
        try pipelined(path: path, refuseSparse: false, header: { header in
            current = header.entry
            try entry(header.entry)
        }, data: { block in
            try data(current!, block)
        })
    }

    /// The two-thread read behind `readPipelined` and `SafeExtractor.extractTree`. With
    /// `refuseSparse`, an entry with a hole fails the read where the hole is.
    static func pipelined(
        path: String, refuseSparse: Bool, pipeline: BlockPipeline = BlockPipeline(),
        header: (BlockPipeline.Header) throws -> Void, data: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let reading = JoinableThread(name: "archive read") {
            produce(path: path, refuseSparse: refuseSparse, into: pipeline)
        }
        // On the way out, whatever happened: a consumer that gave up stops the reader (which
        // does not wait on a full pipeline any more), and the reader is gone before we return.
        defer {
            pipeline.stop()
            reading.join()
        }
        while let slot = try pipeline.next() {
            defer { pipeline.release(slot) }
            if let entry = slot.header { try header(entry) }
            if slot.count > 0 { try data(slot.bytes) }
        }
    }

    /// The reading thread: every header and data block into the pipeline, then the end or the error.
    private static func produce(path: String, refuseSparse: Bool, into pipeline: BlockPipeline) {
        do {
            try SafeExtractor.read(archive: path) { reader, header, entry in
                let time = timespec(tv_sec: archive_entry_mtime(header), tv_nsec: archive_entry_mtime_nsec(header))
                try pipeline.begin(BlockPipeline.Header(entry: entry, time: time))
                var block: UnsafeRawPointer?
                var size = 0
                var offset: Int64 = 0
                var expected: Int64 = 0
                while true {
                    let result = archive_read_data_block(reader, &block, &size, &offset)
                    if result == ARCHIVE_EOF { return }
                    guard result >= ARCHIVE_WARN else {
                        throw ArchiveError(.corrupt, "\(path) is damaged in \(entry.path): \(TarWriter.message(reader))")
                    }
                    guard let block, size > 0 else { continue }
                    if refuseSparse, offset != expected { throw ArchiveError(.unsafeEntry, "refused: entry \(entry.path) is sparse") }
                    try pipeline.append(UnsafeRawBufferPointer(start: block, count: size))
                    expected += Int64(size)
                }
            }
            pipeline.finish(failure: nil)
        } catch is BlockPipeline.Stopped {
            // The consumer gave up and reports its own error.
        } catch {
            pipeline.finish(failure: error)
        }
    }
}
