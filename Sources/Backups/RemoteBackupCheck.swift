import Foundation
import RemoteFiles
import Synchronization

/// Reads a backup's copy in a remote repository back, every byte: the manifest against the
/// catalog's SHA-256, then every file the manifest lists against its size and SHA-256. Only
/// this proves a copy: a listing or the server's file sizes pass a file cut short or rotted.
/// The first problem fails the check, naming the file.
package enum RemoteBackupCheck {
    package struct Report: Sendable, Equatable {
        package let files: Int
        package let bytes: Int64
    }

    /// The remote `manifest.json` under `directory`, checked against the catalog's SHA-256.
    package static func manifest(in directory: String, expectedSHA256: String, session: any RemoteFileSession) async throws -> BackupManifest {
        try BackupManifest.decode(try await small(directory + "/" + BackupManifest.fileName, expectedSHA256: expectedSHA256, session: session))
    }

    /// The remote `encryption.json` of an encrypted copy, checked against the catalog's SHA-256.
    package static func encryptionIndex(in directory: String, expectedSHA256: String, session: any RemoteFileSession) async throws -> EncryptedCopyIndex {
        try EncryptedCopyIndex.decode(try await small(directory + "/" + EncryptedCopyIndex.fileName, expectedSHA256: expectedSHA256, session: session))
    }

    /// A small file read whole (refused past the manifest limit) and matched against a SHA-256.
    private static func small(_ path: String, expectedSHA256: String, session: any RemoteFileSession) async throws -> Data {
        let collected = Mutex(Data())
        let limit = BackupVerifier.manifestLimit
        do {
            _ = try await session.read(path) { chunk in
                try collected.withLock { data in
                    guard data.count + chunk.count <= limit else { throw BackupError("\(path) is larger than any manifest (\(limit) bytes)") }
                    data.append(contentsOf: chunk)
                }
            }
        } catch {
            // (A `catch ... where` on the typed error crashes the Swift 6.3 compiler.)
            guard error.kind != .notFound else { throw BackupError("\(path) is missing from the repository") }
            throw error
        }
        let data = collected.withLock { $0 }
        guard FileDigest.sha256(of: data) == expectedSHA256 else {
            throw BackupError("\(path) differs from the one the catalog recorded (SHA-256 mismatch)")
        }
        return data
    }

    /// Every file of `records` under `directory`, read end to end. `only`: check just these paths.
    package static func files(
        _ records: [BackupManifest.FileRecord], in directory: String, session: any RemoteFileSession, only: Set<String>? = nil
    ) async throws -> (report: Report, mismatched: [BackupManifest.FileRecord]) {
        var bytes: Int64 = 0
        var checked = 0
        var mismatched: [BackupManifest.FileRecord] = []
        for record in records where only?.contains(record.path) ?? true {
            let path = directory + "/" + record.path
            let digest: (bytes: Int64, sha256: String)
            do {
                digest = try await session.sha256(of: path)
            } catch {
                guard error.kind == .notFound else { throw error }
                mismatched.append(record)
                continue
            }
            if digest.bytes != record.bytes || digest.sha256 != record.sha256 { mismatched.append(record) }
            bytes += digest.bytes
            checked += 1
        }
        return (Report(files: checked, bytes: bytes), mismatched)
    }

    /// Why `record`'s remote copy failed, for an error naming it.
    static func problem(_ record: BackupManifest.FileRecord, in directory: String, session: any RemoteFileSession) async -> String {
        let path = directory + "/" + record.path
        guard let size = try? await session.size(of: path) else { return "\(path) is missing" }
        if size != record.bytes { return "\(path) has \(size) bytes, \(listing(of: record)) says \(record.bytes)" }
        return "\(path) is corrupt: SHA-256 differs from \(listing(of: record))"
    }

    private static func listing(of record: BackupManifest.FileRecord) -> String {
        record.path.hasSuffix(EncryptedCopyIndex.suffix) ? EncryptedCopyIndex.fileName : "the manifest"
    }

    /// Reads the copy in `directory` back; throws naming the first bad file.
    package static func verify(directory: String, manifestSHA256: String, session: any RemoteFileSession) async throws -> Report {
        let manifest = try await manifest(in: directory, expectedSHA256: manifestSHA256, session: session)
        let report = try await all(manifest.files, in: directory, session: session)
        return Report(files: report.files + 1, bytes: report.bytes)
    }

    /// Reads an encrypted copy back without any key: `encryption.json` against the catalog's
    /// SHA-256, then every stored file against the size and ciphertext SHA-256 it lists.
    package static func verifyEncrypted(directory: String, indexSHA256: String, session: any RemoteFileSession) async throws -> Report {
        let index = try await encryptionIndex(in: directory, expectedSHA256: indexSHA256, session: session)
        let report = try await all(index.files.map(\.stored), in: directory, session: session)
        return Report(files: report.files + 1, bytes: report.bytes)
    }

    /// Reads `copy` back, plain or encrypted, from where the catalog says it is.
    package static func verify(_ copy: BackupCopyRecord, of backup: BackupRecord, session: any RemoteFileSession) async throws -> Report {
        guard copy.encrypted else { return try await verify(directory: copy.location, manifestSHA256: backup.manifestSHA256, session: session) }
        guard let indexSHA256 = copy.encryptionSHA256 else {
            throw BackupError("the encrypted copy of backup \(backup.id) in \(copy.repository) was never committed (the catalog has no SHA-256 of its \(EncryptedCopyIndex.fileName))")
        }
        return try await verifyEncrypted(directory: copy.location, indexSHA256: indexSHA256, session: session)
    }

    private static func all(_ records: [BackupManifest.FileRecord], in directory: String, session: any RemoteFileSession) async throws -> Report {
        let (report, mismatched) = try await files(records, in: directory, session: session)
        if let first = mismatched.first {
            let more = mismatched.count > 1 ? " (and \(mismatched.count - 1) more)" : ""
            throw BackupError(await problem(first, in: directory, session: session) + more)
        }
        return report
    }
}
