import AgeEncryption
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
///    is renamed to `<profile>/<label>`: a copy without its manifest is never listed as present.
///    S3 has no rename: there the files go straight to `<profile>/<label>/`, each object appearing
///    only once whole, and the manifest written last is the commit;
/// 5. the catalog records it `present` with the verification that proved it.
///
/// A profile with `encrypt_to:` sends every file encrypted to those age recipients instead
/// (`EncryptedUpload`: `<path>.age`, encrypted while it is sent), the manifest too
/// (`manifest.json.age`); the read-back checks the ciphertexts, and the copy is committed by
/// `encryption.json`, which lists them and whose SHA-256 the catalog records first.
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
        let recipients = try recipients(of: record.profile)

        let earlier = try await environment.withOrchestratorDatabase { connection in
            try await BackupCopyCatalog.find(backupID: backupID, repository: repository.name, on: connection)
        }
        let copy = try await environment.withOrchestratorDatabase { connection in
            try await BackupCopyCatalog.begin(
                backupID: backupID, repository: repository.name, location: location, encrypted: !recipients.isEmpty, jobID: jobID, on: connection
            )
        }
        do {
            let plan = Plan(
                record: record, manifest: manifest, manifestData: manifestData, copy: copy, location: location, partial: partial,
                recipients: recipients, switchedEncryption: earlier.map { $0.state == "copying" && $0.encrypted != copy.encrypted } ?? false
            )
            return try await send(plan)
        } catch {
            let reason = "\(error)"
            try? await environment.withOrchestratorDatabase { connection in
                try await BackupCopyCatalog.recordFailure(copyID: copy.id, error: reason, on: connection)
            }
            throw error
        }
    }

    /// The profile's `encrypt_to:` recipients; none when it encrypts nothing (or is gone).
    private func recipients(of profile: String) throws -> [AgeRecipient] {
        let texts = environment.configuration.backups.profiles[profile]?.encryptTo ?? []
        return try texts.enumerated().map { index, text in
            do {
                return try AgeRecipient(text)
            } catch {
                throw BackupRequestError("backups.profiles.\(profile).encrypt_to[\(index)]: \(error)")
            }
        }
    }

    /// One copy under way: what is sent, where, and how.
    struct Plan {
        let record: BackupRecord
        let manifest: BackupManifest
        let manifestData: Data
        let copy: BackupCopyRecord
        let location: String
        /// Where the files are sent before the commit: `location` itself on a store that
        /// cannot rename directories.
        var partial: String
        let recipients: [AgeRecipient]
        /// An interrupted attempt sent the other way (plain or encrypted): start afresh.
        let switchedEncryption: Bool
        var encrypted: Bool { !recipients.isEmpty }
    }

    /// Steps 2 to 5 for a copy the catalog records as under way.
    private func send(_ plan: Plan) async throws -> Report {
        let session = try repository.open()
        defer { session.close() }
        var plan = plan
        // A store that cannot rename a directory (S3) gets the files under their final names;
        // the commit file, written last, is what makes them a copy there.
        if !session.renamesDirectories { plan.partial = plan.location }
        let logger = environment.logger
        let started = Date()
        let (record, copy, location, partial) = (plan.record, plan.copy, plan.location, plan.partial)

        // An earlier run may have committed the directory and died before the catalog knew.
        let commitFile = plan.encrypted ? EncryptedCopyIndex.fileName : BackupManifest.fileName
        if try await session.size(of: location + "/" + commitFile) != nil {
            do {
                let report = plan.encrypted
                    ? try await RemoteBackupCheck.verifyEncrypted(
                        directory: location, indexSHA256: try copy.encryptionSHA256 ?? { throw BackupError("its index is not the one recorded") }(), session: session)
                    : try await RemoteBackupCheck.verify(directory: location, manifestSHA256: record.manifestSHA256, session: session)
                let completed = try await environment.withOrchestratorDatabase { connection in
                    try await BackupCopyCatalog.complete(
                        copyID: copy.id, bytes: report.bytes, bytesSent: 0, jobID: jobID, verifiedFrom: started, files: report.files, on: connection
                    )
                }
                logger.info("copy found complete in the repository", metadata: ["copy.repository": "\(repository.name)", "copy.location": "\(location)"])
                return Report(copy: completed, filesSent: 0, filesResumed: plan.manifest.files.count, bytesSent: 0, alreadyPresent: false,
                              uploadSeconds: 0, readBackSeconds: Date().timeIntervalSince(started))
            } catch {
                logger.warning("a committed copy in the repository does not match; it is replaced", metadata: [
                    "copy.location": "\(location)", "error": "\(error)",
                ])
                try await session.removeTree(location)
            }
        } else if try await session.size(of: location + "/" + (plan.encrypted ? BackupManifest.fileName : EncryptedCopyIndex.fileName)) != nil {
            // Committed the other way (the profile's encrypt_to changed since): replaced.
            try await session.removeTree(location)
        }

        if plan.switchedEncryption { try await session.removeTree(partial) }
        try await session.makeDirectory(partial)
        do {
            if try await session.discardInterruptedUploads(under: partial) > 0 {
                logger.notice("aborted uploads an interrupted copy left open", metadata: ["copy.location": "\(partial)"])
            }
        } catch {
            // Not worth failing the copy: a store may not allow listing them (S3 permission).
            logger.warning("could not look for uploads an interrupted copy left open", metadata: ["error": "\(error)"])
        }
        let sender = CopyFileSender(plan: plan, session: session, rate: repository.settings.maxUploadBytesPerSecond)
        for file in plan.manifest.files {
            try Task.checkCancellation()
            try await sender.sendUnlessPresent(file)
        }
        if plan.encrypted { try await sender.sendEncryptedManifest() }
        let uploaded = Date()

        let stored = sender.stored
        var (readBack, mismatched) = try await RemoteBackupCheck.files(stored, in: partial, session: session)
        if !mismatched.isEmpty {
            logger.warning("files differ after sending; sending them again", metadata: ["copy.files": "\(mismatched.map { $0.path })"])
            for file in mismatched { try await sender.resend(storedPath: file.path) }
            let paths = Set(mismatched.map { $0.path })
            let again = try await RemoteBackupCheck.files(sender.stored, in: partial, session: session, only: paths)
            if let first = again.mismatched.first {
                throw BackupError("the copy in \(repository.name) stays wrong after sending it again: " + (await RemoteBackupCheck.problem(first, in: partial, session: session)))
            }
            readBack = RemoteBackupCheck.Report(files: sender.stored.count, bytes: sender.stored.reduce(0) { $0 + $1.bytes })
        }

        // The manifest (or the encrypted copy's index) last: it is what makes the directory a backup.
        var total = readBack.bytes
        if plan.encrypted {
            let index = try EncryptedCopyIndex(recipients: plan.recipients.map(\.description), files: sender.encryptedFiles).encoded()
            let indexSHA256 = FileDigest.sha256(of: index)
            try await environment.withOrchestratorDatabase { connection in
                try await BackupCopyCatalog.recordIndex(copyID: copy.id, sha256: indexSHA256, on: connection)
            }
            sender.bytesSent += try await session.upload(size: Int64(index.count), to: partial + "/" + EncryptedCopyIndex.fileName,
                                                         maxBytesPerSecond: sender.rate, progress: nil, from: DataProducer(index).produce)
            _ = try await RemoteBackupCheck.encryptionIndex(in: partial, expectedSHA256: indexSHA256, session: session)
            total += Int64(index.count)
        } else {
            sender.bytesSent += try await session.upload(file: record.location + "/" + BackupManifest.fileName, to: partial + "/" + BackupManifest.fileName,
                                                         maxBytesPerSecond: sender.rate, progress: nil)
            _ = try await RemoteBackupCheck.manifest(in: partial, expectedSHA256: record.manifestSHA256, session: session)
            total += Int64(plan.manifestData.count)
        }
        if partial != location { try await session.rename(partial, to: location) }
        let finished = Date()

        let bytesSent = sender.bytesSent
        let completed = try await environment.withOrchestratorDatabase { connection in
            try await BackupCopyCatalog.complete(
                copyID: copy.id, bytes: total, bytesSent: bytesSent, jobID: jobID, verifiedFrom: uploaded, files: readBack.files + 1, on: connection
            )
        }
        logger.info("backup copied and read back", metadata: [
            "copy.repository": "\(repository.name)", "copy.location": "\(location)", "copy.files_sent": "\(sender.filesSent)",
            "copy.files_resumed": "\(sender.filesResumed)", "copy.bytes_sent": "\(bytesSent)", "copy.encrypted": "\(plan.encrypted)",
        ])
        return Report(
            copy: completed, filesSent: sender.filesSent, filesResumed: sender.filesResumed, bytesSent: bytesSent, alreadyPresent: false,
            uploadSeconds: uploaded.timeIntervalSince(started), readBackSeconds: finished.timeIntervalSince(uploaded)
        )
    }
}
