import AgeEncryption
@testable import Backups
import Foundation
import PostgresClient
@testable import Queue
import RemoteFiles
@testable import Settings
import Support
import TestSupport
import Testing

/// Encrypted off-site copies: only ciphertext leaves the host, the standard `age` tool reads
/// it, a host without the key proves it, and only the identity restores it.
extension BackupCopyTests {
    /// A private directory for identity files; the caller removes it.
    func makeKeyDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A fresh identity in a 0600 file under `directory`.
    func identityFile(in directory: String, name: String = "identity.txt") throws -> (identity: AgeIdentity, path: String) {
        let identity = AgeIdentity.generate()
        let path = directory + "/" + name
        try identity.fileText().write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return (identity, path)
    }

    /// The plaintext `age -d` makes of a stored file (the standard tool, nothing of ours).
    func decryptWithAge(_ file: String, identityFile: String) async throws -> Data {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("age-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try await ChildProcess.run("/usr/bin/age", ["--decrypt", "--identity", identityFile, file], standardOutput: output)
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }

    @Test func anEncryptedCopyHoldsOnlyCiphertextThatAgeReadsAndTheIdentityRestores() async throws {
        let keys = try makeKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (identity, identityPath) = try identityFile(in: keys)
        let other = AgeIdentity.generate().recipient.description
        try await withCopyHarness(encryptTo: [identity.recipient.description, other], identityFile: identityPath) { harness, _, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            let (backup, copy) = try await backUpAndCopy(harness, on: connection)
            #expect(copy.encrypted)

            // Only ciphertext and the index: no manifest, no file under its own name.
            let directory = remote + "/" + copy.location
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let stored = Set(try FileManager.default.subpathsOfDirectory(atPath: directory).filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
            })
            let expected = Set((manifest.files.map(\.path) + ["manifest.json"]).map { $0 + ".age" } + ["encryption.json"])
            #expect(stored == expected)
            let indexData = try Data(contentsOf: URL(fileURLWithPath: directory + "/encryption.json"))
            #expect(FileDigest.sha256(of: indexData) == copy.encryptionSHA256)
            let index = try EncryptedCopyIndex.decode(indexData)
            #expect(Set(index.recipients) == [identity.recipient.description, other])
            let indexText = String(decoding: indexData, as: UTF8.self)
            #expect(!indexText.contains("AGE-SECRET-KEY") && !indexText.contains("trades"), "the index names no table and holds no key")

            // The standard age tool decrypts every file to the backup's own bytes.
            for file in manifest.files {
                let plaintext = try await decryptWithAge(directory + "/" + file.path + ".age", identityFile: identityPath)
                #expect(plaintext == (try Data(contentsOf: URL(fileURLWithPath: backup.location + "/" + file.path))), "\(file.path)")
                #expect(index.files.first { $0.path == file.path + ".age" }?.plaintextSHA256 == file.sha256)
            }
            let decryptedManifest = try await decryptWithAge(directory + "/manifest.json.age", identityFile: identityPath)
            #expect(FileDigest.sha256(of: decryptedManifest) == backup.manifestSHA256)

            // A host without the key proves the copy: every ciphertext byte against the index.
            var withoutKey = harness.configuration
            withoutKey.backups.identityFile = nil
            let repository = try RemoteRepository(named: "offsite", in: withoutKey)
            do {
                let session = try repository.open()
                defer { session.close() }
                let report = try await RemoteBackupCheck.verify(copy, of: backup, session: session)
                #expect(report.files == manifest.files.count + 2)
            }

            // The host loses its backups: the identity restores from the copy alone.
            try FileManager.default.removeItem(atPath: backup.location)
            try await expectRestoredFromCopy(harness, backupID: backup.id, on: connection)
        }
    }

    @Test func aWrongOrMissingIdentityOrAFlippedCiphertextByteFailsClearly() async throws {
        let keys = try makeKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (identity, identityPath) = try identityFile(in: keys)
        let (_, wrongPath) = try identityFile(in: keys, name: "wrong.txt")
        try await withCopyHarness(encryptTo: [identity.recipient.description], identityFile: wrongPath) { harness, _, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            #expect(try await backUp(harness).state == "succeeded")
            let backup = try await newestBackup(on: connection)
            let copy = try #require(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection))
            try #require(copy.isPresent && copy.encrypted)

            func restoreError(_ configuration: Configuration) async throws -> String {
                let restoring = Harness(database: harness.database, connector: harness.connector, configuration: configuration)
                let target = "restored_refused_\(UInt32.random(in: 0...UInt32.max))"
                let restore = try await run(restoring, kind: "restore", target: String(backup.id), ["database": target, "repository": "offsite"])
                #expect(restore.job?.state == .failed, "\(restore.job?.state as Any)")
                return restore.job?.lastError ?? ""
            }
            // The wrong identity.
            let wrong = try await restoreError(harness.configuration)
            #expect(wrong.contains("cannot decrypt") && wrong.contains("no identity matches"), "\(wrong)")
            // No identity at all.
            var withoutIdentity = harness.configuration
            withoutIdentity.backups.identityFile = nil
            let missing = try await restoreError(withoutIdentity)
            #expect(missing.contains("backups.identity_file"), "\(missing)")
            // An identity file others can read.
            var loose = harness.configuration
            loose.backups.identityFile = identityPath
            chmod(identityPath, 0o644)
            let exposed = try await restoreError(loose)
            #expect(exposed.contains("chmod 600"), "\(exposed)")
            chmod(identityPath, 0o600)

            // One flipped ciphertext byte: the keyless check names the file, and so does a restore.
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let victim = try #require(manifest.files.max { $0.bytes < $1.bytes }).path + ".age"
            let path = remote + "/" + copy.location + "/" + victim
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
            let repository = try RemoteRepository(named: "offsite", in: harness.configuration)
            let session = try repository.open()
            defer { session.close() }
            await #expect {
                _ = try await RemoteBackupCheck.verify(copy, of: backup, session: session)
            } throws: { error in
                "\(error)" == "\(copy.location)/\(victim) is corrupt: SHA-256 differs from encryption.json"
            }
            var right = harness.configuration
            right.backups.identityFile = identityPath
            let flipped = try await restoreError(right)
            #expect(flipped.contains(victim), "\(flipped)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.configuration.backups.repository).filter { $0.hasPrefix(".fetch-") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func anInterruptedEncryptedCopyResumesWithTheFilesAlreadySent() async throws {
        let keys = try makeKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (identity, identityPath) = try identityFile(in: keys)
        try await withCopyHarness(encryptTo: [identity.recipient.description], identityFile: identityPath) { harness, _, remote in
            let connection = try await harness.connect()
            defer { connection.close() }
            let backup = try await backUpWithoutCopying(harness, on: connection)
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let partial = RemoteRepository.partialLocation(profile: "daily", label: backup.label)
            // An attempt that sent half the files encrypted before it was cut off.
            let sentBefore = Array(manifest.files.prefix(manifest.files.count / 2))
            try #require(!sentBefore.isEmpty)
            do {
                let session = try RemoteRepository(named: "offsite", in: harness.configuration).open()
                defer { session.close() }
                for file in sentBefore {
                    _ = try await EncryptedUpload.send(file, under: backup.location, to: partial, recipients: [identity.recipient], session: session, maxBytesPerSecond: nil)
                }
            }
            _ = try await BackupCopyCatalog.begin(
                backupID: backup.id, repository: "offsite", location: RemoteRepository.location(profile: "daily", label: backup.label), encrypted: true, jobID: nil, on: connection
            )
            let resumed = try await run(harness, kind: "copy-backup", target: String(backup.id), ["repository": "offsite"])
            #expect(resumed.job?.state == .succeeded, "\(resumed.job?.lastError ?? "")")
            let result = try await lastResult(of: resumed.id, on: connection)
            #expect(result["files_resumed"] == .int(Int64(sentBefore.count)), "\(result)")
            #expect(result["files_sent"] == .int(Int64(manifest.files.count - sentBefore.count)), "\(result)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: remote + "/daily") == [backup.label])
            // Every file, resumed or sent now, decrypts to the backup's bytes.
            for file in manifest.files {
                let plaintext = try await decryptWithAge(remote + "/daily/\(backup.label)/" + file.path + ".age", identityFile: identityPath)
                #expect(plaintext == (try Data(contentsOf: URL(fileURLWithPath: backup.location + "/" + file.path))), "\(file.path)")
            }
        }
    }
}
