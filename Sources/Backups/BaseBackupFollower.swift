import Archiving
import Crypto
import Foundation
import Support
import Synchronization

/// Checks a base backup's data tar while `pg_basebackup` is still writing it: follows the file
/// as it grows (`GrowingFile`), decompressing it and hashing every member, and hashes the
/// stored bytes too. When the copy ends, its members only have to be matched against
/// `backup_manifest` (written last) and the stored file's checksum is already known: the read
/// that used to follow the copy, seconds per gigabyte, now overlaps it, from the page cache, on
/// the core that the compression leaves. It runs on a thread of its own, lowered like the
/// backup's tools when `priority` is low (a thread cannot raise itself back, so no shared one).
final class BaseBackupFollower: Sendable {
    struct Outcome: Sendable {
        let members: [ArchiveMemberDigests.Member]
        /// The stored (compressed) file, as read: what manifest.json records for it.
        let archive: FileDigest.Result
    }

    let file: GrowingFile
    private struct State {
        var result: Result<Outcome, any Error>?
        var waiter: CheckedContinuation<Result<Outcome, any Error>, Never>?
    }
    private let state = Mutex(State())

    init(path: String) {
        file = GrowingFile(path: path)
    }

    func start(priority: ProcessPriority) {
        let thread = Thread { [self] in
            priority.applyToCurrentThread()
            let result = Result { try self.follow() }
            let waiter = state.withLock { state in
                state.result = result
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: result)
        }
        thread.name = "base backup check"
        thread.start()
    }

    /// Waits for the thread: after `file.writerFinished()` (the end of the file) or
    /// `file.writerAbandoned()` (at once), it always ends.
    func outcome() async -> Result<Outcome, any Error> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func follow() throws -> Outcome {
        var members = ArchiveMemberDigests()
        var stored = SHA256()
        var storedBytes: Int64 = 0
        try TarReader.read(
            growing: file,
            observe: { block in
                stored.update(bufferPointer: block)
                storedBytes += Int64(block.count)
            },
            entry: { members.begin($0) },
            data: { members.add($1) }
        )
        members.end()
        let digest = stored.finalize().map { String(format: "%02x", $0) }.joined()
        return Outcome(members: members.members, archive: FileDigest.Result(sha256: digest, bytes: storedBytes))
    }
}
