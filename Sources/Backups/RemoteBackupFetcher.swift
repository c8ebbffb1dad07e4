import Foundation
import Logging
import RemoteFiles

/// Brings a backup's copy back from a remote repository for a restore or a drill: every file the
/// catalog's manifest lists is downloaded into a private directory under `backups.repository`
/// (`.fetch-<profile>-<label>-<random>`, 0700; files 0600, synced), then the whole directory is
/// verified exactly like a local backup (sizes, SHA-256, archives and dumps read end to end)
/// before anything is restored from it. The caller removes it with `discard`.
package struct RemoteBackupFetcher: Sendable {
    let environment: BackupEnvironment
    let repository: RemoteRepository

    package init(environment: BackupEnvironment, repository: RemoteRepository) {
        self.environment = environment
        self.repository = repository
    }

    /// `record` as found in the repository, relocated to the verified local directory.
    package func fetch(_ record: BackupRecord) async throws -> BackupRecord {
        let copy = try await environment.withOrchestratorDatabase { connection in
            try await BackupCopyCatalog.find(backupID: record.id, repository: repository.name, on: connection)
        }
        guard let copy, copy.isPresent else {
            throw BackupRequestError("backup \(record.id) has no complete copy in \(repository.name)\(copy.map { " (it is \($0.state))" } ?? "")")
        }
        let session = try repository.open()
        defer { session.close() }
        let manifest = try await RemoteBackupCheck.manifest(in: copy.location, expectedSHA256: record.manifestSHA256, session: session)
        let root = environment.configuration.backups.repository
        let directory = root + "/.fetch-\(record.profile)-\(record.label)-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(directory, 0o700) == 0 else {
            throw BackupError("cannot create \(directory) to fetch the copy into: \(String(cString: strerror(errno)))")
        }
        do {
            for file in manifest.files + [BackupManifest.FileRecord(path: BackupManifest.fileName, bytes: 0, sha256: record.manifestSHA256)] {
                try Task.checkCancellation()
                if let slash = file.path.lastIndex(of: "/") {
                    try BackupBuilder.makeDirectory(directory + "/" + file.path[..<slash])
                }
                _ = try await session.download(copy.location + "/" + file.path, to: directory + "/" + file.path)
            }
            environment.logger.info("copy fetched from the repository; verifying it", metadata: [
                "copy.repository": "\(repository.name)", "copy.location": "\(copy.location)", "fetch.directory": "\(directory)",
            ])
            _ = try await BackupVerifier(logger: environment.logger, archiver: environment.archiver, priority: environment.configuration.backups.priority)
                .verify(directory: directory, manifestSHA256: record.manifestSHA256)
        } catch {
            Self.discard(directory)
            throw error
        }
        return record.relocated(to: directory)
    }

    /// Removes a fetched directory (after the restore or drill, whatever its outcome).
    package static func discard(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
