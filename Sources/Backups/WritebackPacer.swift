import Archiving
import BlockingWork
import Foundation
import Synchronization

/// While `pg_basebackup --no-sync` or `pg_dump --no-sync` writes its output, pushes each file's
/// new data to disk every few megabytes, as the copy grows. Left to the kernel (or to the tool's
/// own sync at exit) the whole copy, hundreds of megabytes, is flushed in one burst at the end,
/// and the application's commits wait behind it for up to a second; written as it goes, the disk
/// sees a steady stream the commits can interleave with. `finish()` then makes every file and the
/// directory durable before the backup is catalogued.
final class WritebackPacer: Sendable {
    let directory: String
    /// Also the files of every directory below (a plain-format copy), not only the top level.
    let recursive: Bool
    /// New data below this stays for the next round (or the final fsync).
    static let step: Int64 = 8 << 20
    private let stopped = Atomic<Bool>(false)
    private let flushed = Mutex<[String: Int64]>([:])

    init(directory: String, recursive: Bool = false) {
        self.directory = directory
        self.recursive = recursive
    }

    /// Runs until `stop()`, on a thread of the jobs lane.
    func run() async {
        _ = try? await BlockingExecutor.shared.run(.jobs) { [self] in
            while !stopped.load(ordering: .relaxed) {
                flushRound(minimum: Self.step)
                usleep(100_000)
            }
        }
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Runs `body` (the tool writing into the directory) with the pacer beside it, and stops
    /// and waits for the pacer however `body` ends. `finish()` is still the caller's.
    func pacing<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        async let running: Void = run()
        do {
            let result = try await body()
            stop()
            await running
            return result
        } catch {
            stop()
            await running
            throw error
        }
    }

    /// Flushes what is left, then fsyncs every file and the directory. Blocking.
    func finish() throws {
        flushRound(minimum: 1)
        for name in files() {
            let path = directory + "/" + name
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { throw BackupError("cannot open \(path) to flush it: \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { throw BackupError("cannot flush \(path): \(String(cString: strerror(errno)))") }
        }
        for path in [directory] + subdirectories() {
            let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { throw BackupError("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { throw BackupError("cannot flush \(path): \(String(cString: strerror(errno)))") }
        }
    }

    private func flushRound(minimum: Int64) {
        for name in files() {
            let descriptor = open(directory + "/" + name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let size = Int64(info.st_size)
            let done = flushed.withLock { $0[name] ?? 0 }
            guard size - done >= minimum else { continue }
            FileWriteback.flush(descriptor, offset: done, count: size - done)
            flushed.withLock { $0[name] = size }
        }
    }

    /// Paths relative to the directory (hidden names at the top left out; non-files are
    /// skipped by the callers' checks).
    private func files() -> [String] {
        guard recursive else {
            return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        }
        return ((FileManager.default.enumerator(atPath: directory)?.allObjects as? [String]) ?? []).filter { !$0.hasPrefix(".") }
    }

    private func subdirectories() -> [String] {
        guard recursive else { return [] }
        return files().map { directory + "/" + $0 }.filter { path in
            var info = stat()
            return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
        }
    }
}
