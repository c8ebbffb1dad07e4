import ArgumentParser
import Foundation
import WALArchive

/// `restore_command = 'orchestrator wal-get --repository DIR %f %p'`. PostgreSQL takes any exit
/// code up to 125 as "not archived" and ends recovery there; codes above 125 stop recovery.
/// So only a file that is definitely absent from a reachable repository exits 1, quickly and
/// with one short line; a damaged copy or an unreachable repository exits 128, so recovery
/// never silently stops short (and never promotes) because of a fault.
struct WALGetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-get",
        abstract: "Restore one WAL file from the repository (PostgreSQL's restore_command).",
        discussion: """
            restore_command = 'orchestrator wal-get --repository DIR %f %p'. Decompresses NAME into a temporary file \
            next to DEST, checks its size and SHA-256 against those recorded by wal-push, then renames it to DEST. \
            Exit codes: 0 restored; 1 NAME is not in the repository (normal at the end of the archive); 64 NAME or DEST \
            is not valid; 128 the stored copy is damaged, the repository cannot be read or the configuration is wrong \
            (PostgreSQL stops recovery rather than ending it early).
            """
    )

    /// Above 125, so PostgreSQL stops recovery instead of taking the fault for the end of the archive.
    static let cannotAnswer = ExitCode(128)

    @OptionGroup var options: WALRepositoryOptions

    @Argument(help: ArgumentHelp("The file to restore (%f).", valueName: "NAME"))
    var name: String

    @Argument(help: ArgumentHelp("Where to write it (%p).", valueName: "DEST"))
    var destination: String

    func run() throws {
        let repository: WALRepository
        do {
            repository = try options.resolve()
        } catch {
            printError(error.message)
            throw Self.cannotAnswer
        }
        do {
            try WALGet(repository: repository).get(name: name, destination: destination)
        } catch {
            switch error.code {
            case .notFound:
                // Not an error: PostgreSQL asks for files past the end of the archive all the time.
                FileHandle.standardError.write(Data("wal-get: \(error.message)\n".utf8))
                throw ExitCodes.failure
            case .refused:
                printError("wal-get: \(error.message)")
                throw ExitCodes.usage
            case .corrupt, .io, .conflict:
                printError("wal-get: \(error.message)")
                throw Self.cannotAnswer
            }
        }
    }
}
