import ArgumentParser
import Settings
import WALArchive

/// Where `wal-push` and `wal-get` find the repository: `--repository DIR`, else the
/// `wal_archive.repository` of a small file (`--wal-config`, default /etc/orchestrator/wal.yaml).
/// Never the main configuration: PostgreSQL runs these as `postgres`, which must not read it.
struct WALRepositoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Repository directory (absolute).", valueName: "DIR"))
    var repository: String?

    @Option(name: .long, help: ArgumentHelp("File with `wal_archive: {repository: DIR}`, used when --repository is not given (default: \(WALArchiveSettings.defaultPath)).", valueName: "FILE"))
    var walConfig: String?

    func resolve() throws(WALCommandError) -> WALRepository {
        let root: String
        if let repository {
            root = repository
        } else {
            let path = walConfig ?? WALArchiveSettings.defaultPath
            do {
                root = try WALArchiveSettings.load(path: path).repository
            } catch {
                throw WALCommandError(configuration: "\(error)")
            }
        }
        do {
            return try WALRepository(root: root)
        } catch {
            throw WALCommandError(configuration: error.message)
        }
    }
}

/// A configuration problem of the WAL commands, before any file is touched.
struct WALCommandError: Error {
    let message: String
    init(configuration message: String) { self.message = message }
}

extension WALRepositoryOptions {
    /// The settings `wal-push` runs with: `--repository` with defaults for the rest, else the
    /// settings file's `wal_archive` section.
    func resolveSettings() throws(WALCommandError) -> WALArchiveSettings {
        if let repository { return WALArchiveSettings(repository: repository) }
        let path = walConfig ?? WALArchiveSettings.defaultPath
        do {
            return try WALArchiveSettings.load(path: path)
        } catch {
            throw WALCommandError(configuration: "\(error)")
        }
    }
}
