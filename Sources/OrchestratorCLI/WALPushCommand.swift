import ArgumentParser
import Foundation
import WALArchive

/// `archive_command = 'orchestrator wal-push --repository DIR %p'`. Exits 0 only once the file
/// is durably in the repository. Kept light on purpose (PostgreSQL starts one per segment): no
/// main configuration, no database, no logging set-up; silent on success.
///
/// A plain (blocking) command: this process does nothing but this one copy, so its work runs on
/// the main thread like `ArchiveTaskCommand`'s.
struct WALPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push",
        abstract: "Archive one WAL file into the repository (PostgreSQL's archive_command).",
        discussion: """
            archive_command = 'orchestrator wal-push --repository DIR %p'. Stores FILE compressed (zstd) with the SHA-256 \
            of its content, flushed to disk before exiting 0. Pushing a file already archived with the same content \
            succeeds; with other content it fails and names both checksums. Segments must be whole (a power of two from 1 MB \
            to 1 GB, first page header matching the name). \
            Exit codes: 0 stored; 1 not stored (I/O error, full disk, different content archived); 64 not a WAL file; \
            78 configuration error.
            """
    )

    @OptionGroup var options: WALRepositoryOptions

    @Argument(help: ArgumentHelp("The file to archive (%p: pg_wal/NAME).", valueName: "PATH"))
    var path: String

    func run() throws {
        let repository: WALRepository
        do {
            repository = try options.resolve()
        } catch {
            printError(error.message)
            throw ExitCodes.configuration
        }
        do {
            if case .repaired(_, _, let damage) = try WALPush(repository: repository).push(path: path) {
                FileHandle.standardError.write(Data("warning: wal-push: replaced a damaged copy (\(damage))\n".utf8))
            }
        } catch {
            printError("wal-push: \(error.message)")
            throw error.code == .refused ? ExitCodes.usage : ExitCodes.failure
        }
    }
}
