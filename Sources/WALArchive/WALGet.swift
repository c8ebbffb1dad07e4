import Foundation

/// `restore_command`: copies one archived file back for PostgreSQL, verified. Blocking.
///
/// The content is decompressed into `.DEST.PID.tmp` next to the destination and renamed over it
/// only after its size and SHA-256 match what was pushed, so PostgreSQL never reads a partial or
/// damaged file under the name it asked for. Not flushed: PostgreSQL can ask again after a
/// crash, and it renames and flushes restored files itself where that matters.
package struct WALGet: Sendable {
    package let repository: WALRepository

    package init(repository: WALRepository) {
        self.repository = repository
    }

    /// `name` is `%f`, `destination` is `%p` (relative to the data directory or absolute).
    /// Throws `.notFound` when the repository is reachable and holds no such file: PostgreSQL
    /// asks for files that do not exist (the next timeline's history, the segment after the
    /// last one) and takes that answer as "end of archive".
    @discardableResult
    package func get(name: String, destination: String) throws(WALArchiveError) -> WALChecksumTrailer {
        let file = try WALFileName(name)
        guard !destination.isEmpty, !destination.hasSuffix("/"),
              !destination.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw WALArchiveError(.refused, "destination \(WALFileName.shown(destination)) is not a file path without \"..\"; restore_command must pass %p as PostgreSQL gives it")
        }
        let path = repository.path(for: file)
        guard let stored = try DurableFiles.openRegularFile(path) else {
            // Tell "not archived" from "repository unreachable": only the first may end recovery.
            try repository.checkRoot()
            throw WALArchiveError(.notFound, "\(file.name) is not in the archive (\(repository.root))")
        }
        defer { close(stored.descriptor) }

        let directory = DurableFiles.parent(of: destination)
        let temporary = (directory == "/" ? "" : directory) + "/." + DurableFiles.lastComponent(of: destination) + ".\(getpid()).tmp"
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw WALArchiveError(.io, "cannot create \(temporary): \(DurableFiles.reason())") }
        var renamed = false
        defer {
            close(output)
            if !renamed { unlink(temporary) }
        }
        let trailer = try StoredWALFile.restore(stored.descriptor, size: stored.size, path: path, into: output, at: temporary)
        guard rename(temporary, destination) == 0 else {
            throw WALArchiveError(.io, "cannot move \(temporary) to \(destination): \(DurableFiles.reason())")
        }
        renamed = true
        return trailer
    }
}
