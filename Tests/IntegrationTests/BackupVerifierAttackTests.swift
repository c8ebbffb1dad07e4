@testable import Backups
import Foundation
@testable import History
import TestSupport
import Testing

/// Someone with write access to the repository tries to make a damaged backup pass verification,
/// or to hang it. Each attempt fails promptly and names the path.
@Suite("Backup verification attacks", .serialized)
struct BackupVerifierAttackTests: BackupFixture {
    enum Attack: String, CaseIterable, Sendable {
        case symlinkToIdenticalCopy, directorySymlinkToIdenticalCopy, fifoInPlaceOfAFile, fifoInPlaceOfTheManifest
        case fileMadeWorldReadable, directoryMade0755, extraDirectory, extraFileInASubdirectory
    }

    @Test(.timeLimit(.minutes(2)), arguments: Attack.allCases)
    func verificationRefusesTheAttackAndNamesThePath(attack: Attack) async throws {
        try await withBackupHarness { harness, scratch, _ in
            #expect(try await backUp(harness).state == "succeeded")
            let connection = try await harness.connect()
            defer { connection.close() }
            let record = try #require(try await BackupCatalog.find("latest", on: connection))
            let backup = record.location
            let outside = scratch + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            var fifo: String?
            let expected: String
            switch attack {
            case .symlinkToIdenticalCopy:
                try FileManager.default.copyItem(atPath: backup + "/globals.sql", toPath: outside + "/globals.sql")
                try FileManager.default.removeItem(atPath: backup + "/globals.sql")
                try FileManager.default.createSymbolicLink(atPath: backup + "/globals.sql", withDestinationPath: outside + "/globals.sql")
                expected = "globals.sql is a symbolic link"
            case .directorySymlinkToIdenticalCopy:
                try FileManager.default.moveItem(atPath: backup + "/db", toPath: outside + "/db")
                try FileManager.default.createSymbolicLink(atPath: backup + "/db", withDestinationPath: outside + "/db")
                expected = "db is a symbolic link"
            case .fifoInPlaceOfAFile:
                try FileManager.default.removeItem(atPath: backup + "/globals.sql")
                #expect(mkfifo(backup + "/globals.sql", 0o600) == 0)
                fifo = backup + "/globals.sql"
                expected = "globals.sql is a FIFO"
            case .fifoInPlaceOfTheManifest:
                try FileManager.default.removeItem(atPath: backup + "/manifest.json")
                #expect(mkfifo(backup + "/manifest.json", 0o600) == 0)
                fifo = backup + "/manifest.json"
                expected = "manifest.json is a FIFO"
            case .fileMadeWorldReadable:
                #expect(chmod(backup + "/globals.sql", 0o644) == 0)
                expected = "globals.sql has mode 0644"
            case .directoryMade0755:
                #expect(chmod(backup + "/db", 0o755) == 0)
                expected = "db has mode 0755"
            case .extraDirectory:
                #expect(mkdir(backup + "/files/more", 0o700) == 0)
                expected = "files/more/ is not in the manifest"
            case .extraFileInASubdirectory:
                let descriptor = open(backup + "/db/app.dump/9999.dat.gz", O_WRONLY | O_CREAT | O_EXCL, 0o600)
                #expect(descriptor >= 0)
                close(descriptor)
                expected = "db/app.dump/9999.dat.gz is not in the manifest"
            }
            // If a reader ever blocks on the FIFO, open its other end after a while so the test
            // reports the hang as a failure instead of hanging itself.
            let rescuer = fifo.map { path in
                Task.detached {
                    try await Task.sleep(for: .seconds(15))
                    let descriptor = open(path, O_WRONLY | O_NONBLOCK)
                    if descriptor >= 0 { close(descriptor) }
                }
            }
            defer { rescuer?.cancel() }
            let started = ContinuousClock.now
            let error = await #expect(throws: BackupError.self) {
                _ = try await BackupVerifier(logger: Harness.logger).verify(directory: backup, manifestSHA256: record.manifestSHA256)
            }
            #expect(ContinuousClock.now - started < .seconds(10), "verification took \(ContinuousClock.now - started)")
            #expect(error?.description.hasPrefix(expected) == true, "\(error?.description ?? "no error")")
        }
    }
}
