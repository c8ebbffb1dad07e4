import Foundation
import Synchronization

/// A file another process is still writing, read from its start as it grows: a read that
/// reaches the current end waits for more until the writer is declared finished (then the end
/// is the end) or abandoned (then reading fails). This lets a backup be checked while the tool
/// writing it is still running, from the page cache, instead of read back once it is done.
///
/// Every byte handed on is also shown to `observe`, in order, so the caller can hash the file
/// as stored without reading it a second time. Blocking; read from a dedicated thread.
public final class GrowingFile: Sendable {
    public let path: String
    private enum Writer { case writing, finished, abandoned }
    private let writer = Mutex(Writer.writing)
    /// How long a read at the current end sleeps before looking again.
    static let pollInterval: useconds_t = 10_000

    public init(path: String) {
        self.path = path
    }

    /// The writer exited having written everything: reading stops at the file's end.
    public func writerFinished() { writer.withLock { if $0 == .writing { $0 = .finished } } }

    /// The writer failed or was stopped: reading stops with an error at once.
    public func writerAbandoned() { writer.withLock { $0 = .abandoned } }

    /// The reading side's state; owned by the one thread that reads.
    final class Cursor {
        let file: GrowingFile
        let observe: (UnsafeRawBufferPointer) -> Void
        var descriptor: Int32 = -1
        var buffer: UnsafeMutableRawPointer
        let capacity = 1 << 20
        /// Why reading stopped, when it failed; libarchive only sees "fatal".
        var failure: ArchiveError?

        init(file: GrowingFile, observe: @escaping (UnsafeRawBufferPointer) -> Void) {
            self.file = file
            self.observe = observe
            buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }

        deinit {
            if descriptor >= 0 { close(descriptor) }
            buffer.deallocate()
        }

        /// The next bytes, or 0 at the end of a finished file.
        func next() throws(ArchiveError) -> Int {
            while true {
                // Read before the check could miss bytes written between a read at the end and
                // the writer's exit; a finished state seen before the read cannot.
                let state = file.writer.withLock { $0 }
                if state == .abandoned { throw ArchiveError(.io, "\(file.path): the writer stopped before finishing") }
                if descriptor < 0 {
                    descriptor = open(file.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                    if descriptor < 0 {
                        guard errno == ENOENT, state == .writing else {
                            throw ArchiveError(.io, "cannot open \(file.path): \(String(cString: strerror(errno)))")
                        }
                        usleep(GrowingFile.pollInterval)
                        continue
                    }
                }
                let count = read(descriptor, buffer, capacity)
                if count > 0 {
                    observe(UnsafeRawBufferPointer(start: buffer, count: count))
                    return count
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ArchiveError(.io, "cannot read \(file.path): \(String(cString: strerror(errno)))")
                }
                if state == .finished { return 0 }
                usleep(GrowingFile.pollInterval)
            }
        }
    }
}
