import Archiving
import Foundation
import Logging
import RemoteFiles
import Synchronization

/// Brings a backup's copy back from a remote repository for a restore or a drill: every file the
/// catalog's manifest lists is downloaded into a private directory under `backups.repository`
/// (`.fetch-<profile>-<label>-<random>`, 0700; files 0600, synced), then the whole directory is
/// verified exactly like a local backup (sizes, SHA-256, archives and dumps read end to end)
/// before anything is restored from it. The caller removes it with `discard`.
///
/// An encrypted copy is checked against its `encryption.json` (whose SHA-256 the catalog has)
/// and decrypted file by file on the way down with `backups.identity_file`; the decrypted
/// manifest must then be the catalog's, like any other.
///
/// A fetched directory is held by a writer lock (`.fetch-….lock`, as unfinished backups are)
/// from its creation until `discard`; the next fetch removes directories whose lock is free, so
/// a worker killed mid-restore leaves nothing behind for long, and a live one is never touched.
package struct RemoteBackupFetcher: Sendable {
    /// The locks of the directories this process fetched and has not discarded yet.
    private static let held = Mutex<[String: PartialBackupLock]>([:])

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
        // The key is read before anything is downloaded: a missing one fails at once.
        let identities = copy.encrypted ? try IdentityFile.load(environment.configuration.backups.identityFile) : []
        let session = try repository.open()
        defer { session.close() }
        let files: [(remote: String, local: String, encrypted: EncryptedCopyIndex.StoredFile?)]
        if copy.encrypted {
            guard let indexSHA256 = copy.encryptionSHA256 else {
                throw BackupError("the encrypted copy of backup \(record.id) in \(repository.name) was never committed")
            }
            let index = try await RemoteBackupCheck.encryptionIndex(in: copy.location, expectedSHA256: indexSHA256, session: session)
            files = index.files.map { ($0.path, $0.plaintextPath, $0) }
        } else {
            let manifest = try await RemoteBackupCheck.manifest(in: copy.location, expectedSHA256: record.manifestSHA256, session: session)
            files = (manifest.files.map(\.path) + [BackupManifest.fileName]).map { ($0, $0, nil) }
        }
        let root = environment.configuration.backups.repository
        await Self.removeLeftovers(in: root, logger: environment.logger)
        let directory = root + "/.fetch-\(record.profile)-\(record.label)-\(UInt32.random(in: 0...UInt32.max))"
        guard let lock = try await Archiver.run({ try PartialBackupLock.acquire(for: directory) }) else {
            throw BackupError("\(directory).lock is held by another process; try again")
        }
        Self.held.withLock { $0[directory] = lock }
        guard mkdir(directory, 0o700) == 0 else {
            let reason = String(cString: strerror(errno))
            Self.discard(directory)
            throw BackupError("cannot create \(directory) to fetch the copy into: \(reason)")
        }
        do {
            for file in files {
                try Task.checkCancellation()
                if let slash = file.local.lastIndex(of: "/") {
                    try BackupBuilder.makeDirectory(directory + "/" + file.local[..<slash])
                }
                if let stored = file.encrypted {
                    try await EncryptedDownload.fetch(stored, from: copy.location, to: directory + "/" + file.local, identities: identities, session: session)
                } else {
                    _ = try await session.download(copy.location + "/" + file.remote, to: directory + "/" + file.local)
                }
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

    /// Removes a fetched directory (after the restore or drill, whatever its outcome), then its lock.
    package static func discard(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
        held.withLock { $0.removeValue(forKey: directory) }?.release()
    }

    /// Fetched directories no live process holds: left by a worker that was killed.
    static func removeLeftovers(in root: String, logger: Logger) async {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix(".fetch-") }
        for name in Set(names.map { $0.hasSuffix(".lock") ? String($0.dropLast(5)) : $0 }).sorted() {
            let directory = root + "/" + name
            guard let lock = try? await Archiver.run({ try PartialBackupLock.acquire(for: directory) }) else { continue }
            if FileManager.default.fileExists(atPath: directory) {
                logger.notice("removing a copy fetched by a restore that did not finish", metadata: ["fetch.directory": "\(directory)"])
                try? FileManager.default.removeItem(atPath: directory)
            }
            lock.release()
        }
    }
}
