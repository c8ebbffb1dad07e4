import ArgumentParser
import Foundation
import Settings
import WALArchive

/// `archive_command = 'orchestrator wal-push --repository DIR %p'`. Exits 0 only once the file
/// is durably in the repository. Kept light on purpose (PostgreSQL starts one per segment): no
/// main configuration, no database, no logging set-up; silent on success.
///
/// A plain (blocking) command: this process does nothing but this one copy, so its work runs on
/// the main thread like `ArchiveTaskCommand`'s. With `--async` (or `wal_archive.async`) it
/// answers from the spool a background pusher (`wal-pusher`) fills ahead of PostgreSQL.
struct WALPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push",
        abstract: "Archive one WAL file into the repository (PostgreSQL's archive_command).",
        discussion: """
            archive_command = 'orchestrator wal-push --repository DIR %p'. Stores FILE compressed (zstd) with the SHA-256 \
            of its content, flushed to disk before exiting 0. Pushing a file already archived with the same content \
            succeeds; with other content it fails and names both checksums. Segments must be whole (a power of two from 1 MB \
            to 1 GB, first page header matching the name). \
            With --async a background pusher stores the files PostgreSQL has marked ready, several ahead and in parallel, \
            and records each result in the spool; this call exits 0 once its file is recorded as stored. \
            Exit codes: 0 stored; 1 not stored (I/O error, full disk, different content archived); 64 not a WAL file; \
            78 configuration error.
            """
    )

    @OptionGroup var options: WALRepositoryOptions

    @Flag(name: .customLong("async"), help: "Answer from the spool; a background pusher stores the files ahead of PostgreSQL (default: wal_archive.async).")
    var asynchronous = false

    @Option(name: .long, help: ArgumentHelp("Spool directory for --async (default: wal_archive.spool, else \(WALArchiveSettings.defaultSpool)).", valueName: "DIR"))
    var spool: String?

    @Option(name: .long, help: ArgumentHelp("Files the background pusher stores ahead of PostgreSQL's calls (default: wal_archive.push_ahead, else \(WALArchiveSettings.defaultPushAhead)).", valueName: "N"))
    var pushAhead: Int?

    @Argument(help: ArgumentHelp("The file to archive (%p: pg_wal/NAME).", valueName: "PATH"))
    var path: String

    func validate() throws {
        if let pushAhead, !WALArchiveSettings.pushAheadRange.contains(pushAhead) {
            throw ValidationError("--push-ahead must be from \(WALArchiveSettings.pushAheadRange.lowerBound) to \(WALArchiveSettings.pushAheadRange.upperBound)")
        }
    }

    func run() throws {
        let settings: WALArchiveSettings
        let repository: WALRepository
        do {
            settings = try options.resolveSettings()
            repository = try WALRepository(root: settings.repository)
        } catch let error as WALCommandError {
            printError(error.message)
            throw ExitCodes.configuration
        } catch let error as WALArchiveError {
            printError(error.message)
            throw ExitCodes.configuration
        }
        let push = WALPush(repository: repository)
        do {
            let outcome: WALPush.Outcome?
            if asynchronous || settings.async {
                outcome = try pushAsynchronously(push, settings: settings)
            } else {
                outcome = try push.push(path: path)
            }
            if case .repaired(_, _, let damage)? = outcome {
                FileHandle.standardError.write(Data("warning: wal-push: replaced a damaged copy (\(damage))\n".utf8))
            }
        } catch {
            printError("wal-push: \(error.message)")
            throw error.code == .refused ? ExitCodes.usage : ExitCodes.failure
        }
    }

    /// Returns the outcome of a push this call made itself, nil when the pusher made it.
    private func pushAsynchronously(_ push: WALPush, settings: WALArchiveSettings) throws(WALArchiveError) -> WALPush.Outcome? {
        let spool = try WALSpool(directory: self.spool ?? settings.spool)
        guard let executable = WALPusherLauncher.currentExecutable() else {
            throw WALArchiveError(.io, "cannot find this program's path (/proc/self/exe) to start the background pusher")
        }
        let ahead = pushAhead ?? settings.pushAhead
        let root = push.repository.root
        let asynchronous = WALAsyncPush(push: push, spool: spool, executable: executable) { walDirectory in
            ["wal-pusher", "--repository", root, "--spool", spool.directory, "--wal-directory", walDirectory, "--push-ahead", String(ahead)]
        }
        if case .pushedDirectly(let outcome) = try asynchronous.push(path: path) { return outcome }
        return nil
    }
}
