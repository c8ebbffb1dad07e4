import AgeEncryption
import Foundation
import RemoteFiles

/// Sends a backup's files into a copy's partial directory, as they are or encrypted, and keeps
/// what each stored file must read back as. A file already there complete (its size; for an
/// encrypted one, the size its ciphertext must have, and its hash read back) is not sent again:
/// that is how a killed copy resumes.
final class CopyFileSender {
    let plan: BackupCopier.Plan
    let session: any RemoteFileSession
    let rate: Int64?
    var filesSent = 0
    var filesResumed = 0
    var bytesSent: Int64 = 0
    /// Plain copies: the manifest's records, as sent.
    private var plainFiles: [BackupManifest.FileRecord] = []
    /// Encrypted copies: every stored `.age` file, for the read-back and `encryption.json`.
    private(set) var encryptedFiles: [EncryptedCopyIndex.StoredFile] = []

    init(plan: BackupCopier.Plan, session: any RemoteFileSession, rate: Int64?) {
        self.plan = plan
        self.session = session
        self.rate = rate
    }

    /// What the partial directory must hold, by stored path.
    var stored: [BackupManifest.FileRecord] { plan.encrypted ? encryptedFiles.map(\.stored) : plainFiles }

    func sendUnlessPresent(_ file: BackupManifest.FileRecord) async throws {
        let remote = plan.partial + "/" + (plan.encrypted ? EncryptedCopyIndex.storedPath(of: file.path) : file.path)
        guard plan.encrypted else {
            if try await session.size(of: remote) == file.bytes {
                filesResumed += 1
            } else {
                bytesSent += try await session.upload(file: plan.record.location + "/" + file.path, to: remote, maxBytesPerSecond: rate, progress: nil)
                filesSent += 1
            }
            plainFiles.append(file)
            return
        }
        let expected = try AgeEncryptor.fileSize(plaintext: file.bytes, recipients: plan.recipients)
        if try await session.size(of: remote) == expected {
            // Sent complete by an earlier run (uploads are renamed into place only when whole):
            // its ciphertext hash is read back now, since that run's was lost with it.
            let digest = try await session.sha256(of: remote)
            if digest.bytes == expected {
                encryptedFiles.append(.init(path: EncryptedCopyIndex.storedPath(of: file.path), bytes: digest.bytes, sha256: digest.sha256,
                                            plaintextBytes: file.bytes, plaintextSHA256: file.sha256))
                filesResumed += 1
                return
            }
        }
        try await sendEncrypted(file)
    }

    /// `manifest.json`, encrypted like every other file of the copy.
    func sendEncryptedManifest() async throws {
        let stored = try await EncryptedUpload.send(
            plan.manifestData, as: BackupManifest.fileName, to: plan.partial, recipients: plan.recipients, session: session, maxBytesPerSecond: rate
        )
        bytesSent += stored.bytes
        encryptedFiles.append(stored)
    }

    /// Sends the file stored at `storedPath` once more, after its read-back failed.
    func resend(storedPath: String) async throws {
        guard plan.encrypted else {
            bytesSent += try await session.upload(file: plan.record.location + "/" + storedPath, to: plan.partial + "/" + storedPath, maxBytesPerSecond: rate, progress: nil)
            filesSent += 1
            return
        }
        encryptedFiles.removeAll { $0.path == storedPath }
        let plaintextPath = String(storedPath.dropLast(EncryptedCopyIndex.suffix.count))
        if plaintextPath == BackupManifest.fileName {
            try await sendEncryptedManifest()
        } else if let file = plan.manifest.files.first(where: { $0.path == plaintextPath }) {
            try await sendEncrypted(file)
        }
    }

    private func sendEncrypted(_ file: BackupManifest.FileRecord) async throws {
        let stored = try await EncryptedUpload.send(
            file, under: plan.record.location, to: plan.partial, recipients: plan.recipients, session: session, maxBytesPerSecond: rate
        )
        bytesSent += stored.bytes
        filesSent += 1
        encryptedFiles.append(stored)
    }
}

/// Bytes in memory as an upload's producer (a copy's `encryption.json`).
///
/// `@unchecked Sendable`: the session calls `produce` on the one thread running the transfer.
final class DataProducer: @unchecked Sendable {
    private let data: Data
    private var offset = 0

    init(_ data: Data) { self.data = data }

    func produce(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, data.count - offset)
        data.copyBytes(to: buffer.bindMemory(to: UInt8.self), from: offset..<offset + count)
        offset += count
        return count
    }
}
