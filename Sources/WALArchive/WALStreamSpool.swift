import Foundation

/// The directory `pg_receivewal` writes into: the segment being received is `NAME.partial`,
/// renamed to `NAME` once complete and flushed; timeline history files arrive whole. Completed
/// files move into the repository through `WALPush` (idempotent: a file pushed before a crash
/// is found stored and verified) and are deleted from here only once durably stored. Blocking.
package struct WALStreamSpool: Sendable {
    package let directory: String
    package let push: WALPush

    /// Where the mover leaves its error while moving fails (pg_receivewal ignores names that
    /// are not WAL files), for health sampling and `wal status`.
    package static let moveErrorName = "mover.error"

    package init(directory: String, push: WALPush) {
        self.directory = directory
        self.push = push
    }

    /// Completed files, oldest first (by name: history files before their timeline's segments).
    package func completed() -> [WALFileName] {
        DirectoryNames.list(directory).compactMap { name -> WALFileName? in
            guard let file = try? WALFileName(name), file.kind == .segment || file.kind == .history else { return nil }
            return file
        }.sorted { $0.name < $1.name }
    }

    /// Moves every completed file, in order, stopping at the first failure (a full or missing
    /// repository fails them all; the next round retries). Returns the names moved.
    package func moveCompleted() throws(WALArchiveError) -> [String] {
        var moved: [String] = []
        for file in completed() {
            let path = directory + "/" + file.name
            _ = try push.push(path: path)
            guard unlink(path) == 0 || errno == ENOENT else {
                throw WALArchiveError(.io, "stored \(file) but cannot remove \(path) from the stream spool: \(DurableFiles.reason())")
            }
            moved.append(file.name)
        }
        return moved
    }

    /// Leaves `message` where health sampling reads it; best effort (a spool that cannot take
    /// it cannot take segments either, and the log has the error too).
    package func recordMoveError(_ message: String) {
        AdvisoryFile.write(message + "\n", to: directory + "/" + Self.moveErrorName)
    }

    /// Removes the recorded error once a round of moves succeeded.
    package func clearMoveError() {
        unlink(directory + "/" + Self.moveErrorName)
    }
}
