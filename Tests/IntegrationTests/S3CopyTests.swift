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

/// Off-site copies to S3-compatible storage: moto's server on loopback, a bucket per test, the
/// access key read from files. The same copier as over SFTP, committed by the object written last.
extension BackupCopyTests {
    static let s3AccessKeyID = "AKIAORCHESTRATORCOPY1"
    static let s3Secret = "c0py/Secret+Never/Echoed/0123456789abcdefgh"

    /// The backup fixture with an `offsite` repository in a new bucket (prefix `nuc/db1`),
    /// copied to by `daily`; `body` gets a session of its own on the bucket to look inside.
    func withS3CopyHarness(
        retention: RetentionPolicy = RetentionPolicy(), encryptTo: [String] = [], identityFile: String? = nil, secretFile: String? = nil,
        _ body: (Harness, S3Session, String) async throws -> Void
    ) async throws {
        let server = try LoopbackS3Server.shared()
        let bucket = "copies-" + UUID().uuidString.lowercased().prefix(18)
        try server.createBucket(bucket)
        let secrets = FileManager.default.temporaryDirectory.appendingPathComponent("s3-keys-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: secrets, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: secrets) }
        for (name, value) in [("key-id", Self.s3AccessKeyID), ("secret", Self.s3Secret)] {
            try (value + "\n").write(toFile: secrets + "/" + name, atomically: true, encoding: .utf8)
            chmod(secrets + "/" + name, 0o600)
        }
        let inspector = try S3Session(endpoint: try S3Endpoint(
            url: server.url, region: "us-east-1", bucket: bucket, prefix: "nuc/db1", accessKeyId: Self.s3AccessKeyID, secretAccessKey: Self.s3Secret
        ))
        defer { inspector.close() }
        try await withBackupHarness { harness, _, _ in
            var configuration = harness.configuration
            configuration.repositories = [
                "offsite": RepositorySettings(
                    url: "s3://\(bucket)/nuc/db1",
                    access: .s3(S3RepositoryAccess(
                        endpoint: server.url, region: "us-east-1", accessKeyID: SecretReference(file: secrets + "/key-id"),
                        secretAccessKey: SecretReference(file: secretFile ?? secrets + "/secret"), partSizeMiB: 5
                    )),
                    retention: retention
                ),
            ]
            configuration.backups.profiles["daily"]?.copyTo = ["offsite"]
            configuration.backups.profiles["daily"]?.encryptTo = encryptTo
            configuration.backups.identityFile = identityFile
            let problems = configuration.validate().filter { $0.path.hasPrefix("repositories") || $0.path.contains("copy_to") }
            try #require(problems.isEmpty, "\(problems)")
            try await body(Harness(database: harness.database, connector: harness.connector, configuration: configuration), inspector, bucket)
        }
    }

    @Test func aCopyToS3IsCommittedByItsManifestReadBackAndRestoredFromThereAlone() async throws {
        try await withS3CopyHarness { harness, bucket, _ in
            let connection = try await harness.connect()
            defer { connection.close() }
            let (backup, copy) = try await backUpAndCopy(harness, on: connection)

            // Straight under the final name (S3 has no rename), every object the local file's bytes.
            #expect(try await bucket.list("daily") == [backup.label], "no partial directory on S3")
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            #expect(Set(try await bucket.list(copy.location)).isSuperset(of: Set(manifest.files.map { String($0.path.split(separator: "/")[0]) } + ["manifest.json"])))
            for file in manifest.files {
                let stored = try await bucket.sha256(of: copy.location + "/" + file.path)
                #expect(stored.bytes == file.bytes && stored.sha256 == file.sha256, "\(file.path)")
            }
            #expect(try await bucket.sha256(of: copy.location + "/manifest.json").sha256 == backup.manifestSHA256)
            #expect(try await bucket.incompleteUploads().isEmpty, "no multipart upload is left open")
            // The access key never reaches a row.
            let leaks = try await harness.count(
                "SELECT count(*) AS n FROM orchestrator.job_runs WHERE coalesce(result::text, '') || coalesce(error, '') LIKE '%' || $1 || '%'", [Self.s3Secret], on: connection
            )
            #expect(leaks == 0)

            // The host loses its backups: the bucket alone restores.
            try FileManager.default.removeItem(atPath: backup.location)
            try await expectRestoredFromCopy(harness, backupID: backup.id, on: connection)

            // A rotted object fails the read-back, named.
            let victim = try #require(manifest.files.max { $0.bytes < $1.bytes })
            let rotten = harness.configuration.backups.repository + "/rotten"
            try Data(repeating: 7, count: Int(victim.bytes)).write(to: URL(fileURLWithPath: rotten))
            try await bucket.upload(file: rotten, to: copy.location + "/" + victim.path)
            let session = try RemoteRepository(named: "offsite", in: harness.configuration).open()
            defer { session.close() }
            await #expect {
                _ = try await RemoteBackupCheck.verify(copy, of: backup, session: session)
            } throws: { error in
                "\(error)" == "\(copy.location)/\(victim.path) is corrupt: SHA-256 differs from the manifest"
            }
        }
    }

    @Test func anEncryptedCopyToS3HoldsOnlyCiphertextAndTheIdentityRestoresIt() async throws {
        let keys = try makeKeyDirectory()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let (identity, identityPath) = try identityFile(in: keys)
        try await withS3CopyHarness(encryptTo: [identity.recipient.description], identityFile: identityPath) { harness, bucket, _ in
            let connection = try await harness.connect()
            defer { connection.close() }
            let (backup, copy) = try await backUpAndCopy(harness, on: connection)
            #expect(copy.encrypted, "\(copy)")
            let names = try await bucket.list(copy.location)
            #expect(names.contains("encryption.json") && names.contains("manifest.json.age") && !names.contains("manifest.json"), "\(names)")
            // The standard age tool reads what the bucket holds.
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let file = try #require(manifest.files.first)
            let downloaded = harness.configuration.backups.repository + "/downloaded.age"
            _ = try await bucket.download(copy.location + "/" + file.path + ".age", to: downloaded)
            #expect(try await decryptWithAge(downloaded, identityFile: identityPath) == (try Data(contentsOf: URL(fileURLWithPath: backup.location + "/" + file.path))))

            try FileManager.default.removeItem(atPath: backup.location)
            try await expectRestoredFromCopy(harness, backupID: backup.id, on: connection)
        }
    }

    @Test func anInterruptedS3CopyResumesAndAMissingSecretFailsNamingTheSetting() async throws {
        try await withS3CopyHarness { harness, bucket, bucketName in
            let connection = try await harness.connect()
            defer { connection.close() }
            let backup = try await backUpWithoutCopying(harness, on: connection)
            let manifest = try BackupManifest.decode(Data(contentsOf: URL(fileURLWithPath: backup.location + "/manifest.json")))
            let location = RemoteRepository.location(profile: "daily", label: backup.label)

            // Without its secret, the job fails naming the setting, and nothing is sent.
            var broken = harness.configuration
            if case .s3(var access) = broken.repositories["offsite"]?.access {
                access.secretAccessKey = SecretReference(file: "/nonexistent/orchestrator-s3-secret")
                broken.repositories["offsite"]?.access = .s3(access)
            }
            let refused = try await run(
                Harness(database: harness.database, connector: harness.connector, configuration: broken), kind: "copy-backup", target: String(backup.id), ["repository": "offsite"]
            )
            let error = refused.job?.lastError ?? ""
            #expect(refused.job?.state == .failed, "failed at once: retrying reads the same settings")
            #expect(error.contains("repositories.offsite.secret_access_key_file") && error.contains("does not exist"), "\(error)")
            #expect(try await bucket.list("daily").isEmpty)

            // A copy cut off after half its files: on S3 they sit under the final name, but
            // without the manifest nothing is a copy, and the next run sends only the rest.
            let sentBefore = Array(manifest.files.prefix(manifest.files.count / 2))
            try #require(!sentBefore.isEmpty)
            for file in sentBefore {
                try await bucket.upload(file: backup.location + "/" + file.path, to: location + "/" + file.path)
            }
            // ... and the upload it was in the middle of is still open, its parts billed.
            let cutOff = try #require(manifest.files.last)
            try LoopbackS3Server.shared().beginMultipartUpload(bucket: bucketName, key: "nuc/db1/\(location)/\(cutOff.path)")
            #expect(try await bucket.incompleteUploads(under: location) == ["\(location)/\(cutOff.path)"])
            #expect(try await BackupCopyCatalog.find(backupID: backup.id, repository: "offsite", on: connection)?.isPresent == false)
            try await expectCopyResumed(harness, backupID: backup.id, files: manifest.files.count, alreadySent: sentBefore.count, on: connection)
            #expect(try await bucket.incompleteUploads().isEmpty, "the resumed copy aborted the upload left open")
        }
    }

    @Test func anS3RepositoryKeepsCopiesByItsOwnRetention() async throws {
        try await withS3CopyHarness(retention: RetentionPolicy(keepLast: 1)) { harness, bucket, _ in
            let connection = try await harness.connect()
            defer { connection.close() }
            let (_, second) = try await backUpTwiceUnderKeepLastOne(harness, on: connection)
            #expect(try await bucket.list("daily") == [second.label], "the pruned copy's objects are gone")
        }
    }
}
