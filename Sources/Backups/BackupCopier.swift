import Archiving
import Foundation
import Logging
import RemoteFiles
import Settings

/// Copies one verified local backup to a remote repository so that the copy is as trusted as
/// the original:
///
/// 1. the catalog records the copy as `copying` before the first byte leaves;
/// 2. every file goes to `<profile>/.partial-<label>/` (each written as `.part` and renamed, so
///    a file under its own name is always complete); a file already there with the manifest's
///    size is not sent again, which is how a killed copy resumes;
/// 3. every file is read back and matched against the manifest's SHA-256 (one that does not
///    match is sent once more);
/// 4. `manifest.json` goes last, is read back against the catalog's SHA-256, and the directory
///    is renamed to `<profile>/<label>`: a copy without its manifest is never listed as present;
/// 5. the catalog records it `present` with the verification that proved it.
package struct BackupCopier: Sendable {
    package struct Report: Sendable, Equatable {
        package let copy: BackupCopyRecord
        /// Files sent by this run; `filesResumed` were already complete from an earlier one.
        package let filesSent: Int
        package let filesResumed: Int
        package let bytesSent: Int64
        /// True when the copy was already present: nothing was sent or read.
        package let alreadyPresent: Bool
        package let uploadSeconds: Double
        package let readBackSeconds: Double
    }

    let environment: BackupEnvironment
    let repository: RemoteRepository
    let jobID: Int64?

    package init(environment: BackupEnvironment, repository: RemoteRepository, jobID: Int64?) {
        self.environment = environment
        self.repository = repository
        self.jobID = jobID
    }

    package func copy(backupID: Int64) async throws -> Report {
        let record = try await environment.withOrchestratorDatabase { connection in
            try await BackupCatalog.find(String(backupID), on: connection)
        }
        guard let record else { throw BackupRequestError("no backup has id \(backupID)") }
        if let existing = try await environment.withOrchestratorDatabase({ try await BackupCopyCatalog.find(backupID: backupID, repository: repository.name, on: $0) }),
           existing.isPresent {
            return Report(copy: existing, filesSent: 0, filesResumed: 0, bytesSent: 0, alreadyPresent: true, uploadSeconds: 0, readBackSeconds: 0)
        }
        guard record.deletedAt == nil else {
            throw BackupRequestError("backup \(backupID) was deleted from this host by retention before it was copied; nothing is left to copy")
        }
        guard record.verifyStatus == "passed" else {
            throw BackupRequestError("backup \(backupID) did not pass its last verification (\(record.verifyStatus ?? "never verified")); only a verified backup is copied: run `orchestrator backups verify \(backupID)`")
        }
        let manifestData = try await Archiver.run {
            try BackupFileOpener.contents(of: BackupManifest.fileName, under: record.location, limit: BackupVerifier.manifestLimit)
        }
        guard FileDigest.sha256(of: manifestData) == record.manifestSHA256 else {
            throw BackupRequestError("\(record.location)/\(BackupManifest.fileName) differs from the catalog's; verify backup \(backupID) before copying it")
        }
        let manifest = try BackupManifest.decode(manifestData)
        let location = RemoteRepository.location(profile: record.profile, label: record.label)
        let partial = RemoteRepository.partialLocation(profile: record.profile, label: record.label)

        let copy = try await environment.withOrchestratorDatabase { connection in
            try await BackupCopyCatalog.begin(backupID: backupID, repository: repository.name, location: location, jobID: jobID, on: connection)
        }
        do {
            return try await send(record: record, manifest: manifest, manifestSize: manifestData.count, copy: copy, location: location, partial: partial)
        } catch {
            let reason = "\(error)"
            try? await environment.withOrchestratorDatabase { connection in
                try await BackupCopyCatalog.recordFailure(copyID: copy.id, error: reason, on: connection)
            }
            throw error
        }
    }

    /// Steps 2 to 5 for a copy the catalog records as under way.
    private func send(
        record: BackupRecord, manifest: BackupManifest, manifestSize: Int, copy: BackupCopyRecord, location: String, partial: String
    ) async throws -> Report {
        let session = try repository.open()
        defer { session.close() }
        let logger = environment.logger
        let started = Date()

        // An earlier run may have committed the directory and died before the catalog knew.
        if try await session.size(of: location + "/" + BackupManifest.fileName) != nil {
            do {
                let report = try await RemoteBackupCheck.verify(directory: location, manifestSHA256: record.manifestSHA256, session: session)
                let completed = try await environment.withOrchestratorDatabase { connection in
                    try await BackupCopyCatalog.complete(
                        copyID: copy.id, bytes: report.bytes, bytesSent: 0, jobID: jobID, verifiedFrom: started, files: report.files, on: connection
                    )
                }
                logger.info("copy found complete in the repository", metadata: ["copy.repository": "\(repository.name)", "copy.location": "\(location)"])
                return Report(copy: completed, filesSent: 0, filesResumed: manifest.files.count, bytesSent: 0, alreadyPresent: false,
                              uploadSeconds: 0, readBackSeconds: Date().timeIntervalSince(started))
            } catch {
                logger.warning("a committed copy in the repository does not match; it is replaced", metadata: [
                    "copy.location": "\(location)", "error": "\(error)",
                ])
                try await session.removeTree(location)
            }
        }

        try await session.makeDirectory(partial)
        var filesSent = 0
        var filesResumed = 0
        var bytesSent: Int64 = 0
        let rate = repository.settings.maxUploadBytesPerSecond
        func send(_ file: BackupManifest.FileRecord) async throws {
            bytesSent += try await session.upload(file: record.location + "/" + file.path, to: partial + "/" + file.path, maxBytesPerSecond: rate)
            filesSent += 1
        }
        for file in manifest.files {
            try Task.checkCancellation()
            if try await session.size(of: partial + "/" + file.path) == file.bytes {
                filesResumed += 1
                continue
            }
            try await send(file)
        }
        let uploaded = Date()

        var (readBack, mismatched) = try await RemoteBackupCheck.files(of: manifest, in: partial, session: session)
        if !mismatched.isEmpty {
            logger.warning("files differ after sending; sending them again", metadata: ["copy.files": "\(mismatched.map { $0.path })"])
            for file in mismatched { try await send(file) }
            let again = try await RemoteBackupCheck.files(of: manifest, in: partial, session: session, only: Set(mismatched.map { $0.path }))
            if let first = again.mismatched.first {
                throw BackupError("the copy in \(repository.name) stays wrong after sending it again: " + (await RemoteBackupCheck.problem(first, in: partial, session: session)))
            }
            readBack = RemoteBackupCheck.Report(files: manifest.files.count, bytes: manifest.totalBytes)
        }

        // The manifest last: it is what makes the directory a backup.
        let manifestPath = record.location + "/" + BackupManifest.fileName
        bytesSent += try await session.upload(file: manifestPath, to: partial + "/" + BackupManifest.fileName, maxBytesPerSecond: rate)
        _ = try await RemoteBackupCheck.manifest(in: partial, expectedSHA256: record.manifestSHA256, session: session)
        try await session.rename(partial, to: location)
        let finished = Date()

        let total = readBack.bytes + Int64(manifestSize)
        let completed = try await environment.withOrchestratorDatabase { connection in
            try await BackupCopyCatalog.complete(
                copyID: copy.id, bytes: total, bytesSent: bytesSent, jobID: jobID, verifiedFrom: uploaded, files: readBack.files + 1, on: connection
            )
        }
        logger.info("backup copied and read back", metadata: [
            "copy.repository": "\(repository.name)", "copy.location": "\(location)", "copy.files_sent": "\(filesSent)",
            "copy.files_resumed": "\(filesResumed)", "copy.bytes_sent": "\(bytesSent)",
        ])
        return Report(
            copy: completed, filesSent: filesSent, filesResumed: filesResumed, bytesSent: bytesSent, alreadyPresent: false,
            uploadSeconds: uploaded.timeIntervalSince(started), readBackSeconds: finished.timeIntervalSince(uploaded)
        )
    }
}
