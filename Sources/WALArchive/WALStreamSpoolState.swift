import Foundation

/// What waits in `wal_stream`'s spool, for health sampling and `wal status`: completed segments
/// the mover has not stored yet (oldest by modification time: when pg_receivewal finished it),
/// the segment being received, and the mover's last error while it keeps failing. Read from
/// one directory listing and a `stat` per completed file. Blocking.
package struct WALStreamSpoolState: Sendable, Equatable, Encodable {
    package let directory: String
    /// Completed files (segments and history files) waiting to be moved into the repository.
    package let waiting: Int
    package let oldestWaiting: String?
    package let oldestWaitingSince: Date?
    /// The `.partial` segment pg_receivewal is writing, if any.
    package let receiving: String?
    /// The mover's error while moving fails; nil once a round succeeds.
    package let moveError: String?
    package let moveErrorSince: Date?

    enum CodingKeys: String, CodingKey {
        case directory, waiting, oldestWaiting = "oldest_waiting", oldestWaitingSince = "oldest_waiting_since", receiving
        case moveError = "move_error", moveErrorSince = "move_error_since"
    }

    /// Reads the spool; fails when the directory is missing or unreadable (on a host that has
    /// never streamed it does not exist: the receiving worker creates it).
    package static func read(directory: String) throws(WALArchiveError) -> WALStreamSpoolState {
        guard let stream = opendir(directory) else {
            throw WALArchiveError(.io, "cannot list stream spool \(directory): \(DurableFiles.reason())")
        }
        closedir(stream)
        let names = DirectoryNames.list(directory)
        let completed = names.compactMap { try? WALFileName($0) }.filter { $0.kind == .segment || $0.kind == .history }.map(\.name).sorted()
        var oldest: (name: String, since: Date)?
        for name in completed {
            guard let since = AdvisoryFile.modified(directory + "/" + name) else { continue }  // moved meanwhile
            if oldest == nil || since < oldest!.since { oldest = (name, since) }
        }
        let receiving = names.filter { $0.hasSuffix(".partial") && !$0.hasPrefix(".") }.sorted().last
        let errorPath = directory + "/" + WALStreamSpool.moveErrorName
        let moveError = WALSpool.readSmallFile(errorPath)?.trimmingCharacters(in: .whitespacesAndNewlines)
        return WALStreamSpoolState(
            directory: directory, waiting: completed.count, oldestWaiting: oldest?.name, oldestWaitingSince: oldest?.since,
            receiving: receiving, moveError: moveError, moveErrorSince: moveError == nil ? nil : AdvisoryFile.modified(errorPath)
        )
    }
}
