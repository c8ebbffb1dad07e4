@testable import Backups
import Foundation
import PostgresClient
@testable import Settings
import TestSupport
import Testing

/// Physical backups in plain format: an uncompressed copy of the data directory that
/// verification checks file by file against `backup_manifest` (and `pg_verifybackup` reads in
/// place), that restores to a point in time, and whose tampering is named.
@Suite("Plain-format base backups")
struct PlainBaseBackupTests {
    static let profile = BackupProfile(retention: RetentionPolicy(keepLast: 2), method: .physical, database: "primary", checkpoint: .fast, format: .plain)

    @Test func aPlainBackupIsACheckedCopyThatRestoresToTheEndOfTheArchive() async throws {
        try await PhysicalBackupFixture.with(profile: Self.profile) { fixture in
            let primary = try await fixture.primaryConnection()
            defer { primary.close() }
            try await primary.execute("CREATE TABLE \"marks ✓\" (id int PRIMARY KEY)")
            try await primary.execute("INSERT INTO \"marks ✓\" VALUES (1)")
            let record = try await fixture.baseBackup()
            let files = try FileManager.default.contentsOfDirectory(atPath: record.location).sorted()
            #expect(files == ["backup_manifest", "data", "manifest.json"], "\(files)")
            #expect(FileManager.default.fileExists(atPath: record.location + "/data/PG_VERSION"))
            #expect(!FileManager.default.fileExists(atPath: record.location + "/data/backup_manifest"), "the manifest sits beside the copy")
            let manifest = try await BackupRestorer.manifest(of: record)
            #expect(manifest.physical?.format == .plain)
            #expect(manifest.files.map(\.path) == ["backup_manifest"], "the copy's files are covered by backup_manifest")
            let segments = try FileManager.default.contentsOfDirectory(atPath: record.location + "/data/pg_wal").filter { $0.count == 24 }
            #expect(segments.contains(try #require(record.startWAL)), "the WAL the copy needs is inside it")

            let report = try await BackupVerifier(logger: Harness.logger).verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            #expect(report.files == 1, "manifest.json lists backup_manifest only")

            try await primary.execute("INSERT INTO \"marks ✓\" VALUES (2)")
            try await fixture.archiveEverything(primary)
            let restored = try await fixture.restorer.run(fixture.restoreRequest(.latest, name: "plain"))
            defer { fixture.stop(restored) }
            let copy = try await fixture.connect(to: restored)
            defer { copy.close() }
            let count: Int64 = try await copy.query("SELECT count(*) AS n FROM \"marks ✓\"").single().decode("n")
            #expect(count == 2, "the plain copy recovered through the archive to its end")
        }
    }

    @Test func aChangedMissingOrAddedFileInThePlainCopyIsNamed() async throws {
        try await PhysicalBackupFixture.with(profile: Self.profile) { fixture in
            let record = try await fixture.baseBackup()
            let verifier = BackupVerifier(logger: Harness.logger)
            let version = record.location + "/data/PG_VERSION"
            let original = try Data(contentsOf: URL(fileURLWithPath: version))

            try Data("14\n".utf8).write(to: URL(fileURLWithPath: version))
            try setPermissions(version)
            let changed = await #expect(throws: BackupError.self) {
                try await verifier.verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            }
            #expect(changed?.description.contains("PG_VERSION") == true, "\(changed?.description ?? "")")
            let restore = await #expect(throws: BackupError.self) { try await fixture.restorer.run(fixture.restoreRequest(.latest, name: "changed")) }
            #expect(restore?.description.contains("PG_VERSION") == true, "\(restore?.description ?? "")")
            #expect(!FileManager.default.fileExists(atPath: fixture.wal.directory + "/changed/data"), "a refused restore leaves no data directory")

            try original.write(to: URL(fileURLWithPath: version))
            try setPermissions(version)
            _ = try await verifier.verify(directory: record.location, manifestSHA256: record.manifestSHA256)

            let planted = record.location + "/data/base/évil.sql"
            try Data("DROP TABLE trades;".utf8).write(to: URL(fileURLWithPath: planted))
            try setPermissions(planted)
            let added = await #expect(throws: BackupError.self) {
                try await verifier.verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            }
            #expect(added?.description.contains("évil.sql\" is not in backup_manifest") == true, "\(added?.description ?? "")")
            try FileManager.default.removeItem(atPath: planted)

            try FileManager.default.createSymbolicLink(atPath: planted, withDestinationPath: "/etc/passwd")
            await #expect(throws: BackupError.self) {
                try await verifier.verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            }
            try FileManager.default.removeItem(atPath: planted)

            try FileManager.default.removeItem(atPath: version)
            let missing = await #expect(throws: BackupError.self) {
                try await verifier.verify(directory: record.location, manifestSHA256: record.manifestSHA256)
            }
            #expect(missing?.description.contains("PG_VERSION is listed in backup_manifest but missing") == true, "\(missing?.description ?? "")")
        }
    }

    private func setPermissions(_ path: String) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
