import Foundation
import PostgresClient
import TestSupport
import Testing
@testable import WALArchive

/// A real PostgreSQL archiving through the built binary (`archive_command = '... wal-push %p'`).
@Suite("WAL archiving with a cluster")
struct WALArchiveClusterTests {
    @Test func aClusterArchivesIntoTheRepositoryAndEverySegmentComesBackIdentical() async throws {
        try await WALFixture.with { fixture in
            let settings = [
                "wal_level": "replica", "archive_mode": "on",
                "archive_command": "'\(fixture.binary)' wal-push --repository '\(fixture.repository)' %p",
                // Keeps archived segments in pg_wal so the test can compare them.
                "wal_keep_size": "1GB",
            ]
            try await PrivateCluster.with(settings: settings, in: fixture.directory + "/cluster") { cluster in
                let connection = try await PostgresConnection.connect(cluster.configuration)
                defer { connection.close() }
                try await connection.execute("CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 200000) g")
                let last: String = try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").first!.decode("name")
                try await connection.execute("SELECT pg_switch_wal()")
                try await waitUntilArchived(last, on: connection, cluster: cluster)

                let archived = fixture.files(in: "\(fixture.repository)/wal/00000001/0000000100000000").filter { !$0.hasPrefix(".") }
                #expect(archived.contains("\(last).zst"), "\(archived)")
                #expect(archived.count >= 2)
                let restoreDirectory = fixture.directory + "/restore"
                try fixture.makeServerDirectory(restoreDirectory)
                for stored in archived {
                    let name = String(stored.dropLast(4))
                    let segment = cluster.dataDirectory + "/pg_wal/" + name
                    let original = try fixture.bytes(segment)
                    let compressed = try fixture.bytes(fixture.stored(name))
                    #expect(compressed.count < original.count / 2, "\(name) is stored compressed")
                    let restored = restoreDirectory + "/RECOVERYXLOG"
                    let get = try await fixture.get(name, to: restored)
                    #expect(get.status == 0, "\(get.stderr)")
                    #expect(try fixture.bytes(restored) == original, "\(name) comes back byte for byte")
                }
                #expect(fixture.files(in: restoreDirectory) == ["RECOVERYXLOG"], "no temporary file left")

                // PostgreSQL retrying a push it already made: success, nothing rewritten.
                let segment = cluster.dataDirectory + "/pg_wal/" + last
                var before = stat()
                stat(fixture.stored(last), &before)
                let again = try await fixture.push(segment)
                #expect(again.status == 0, "\(again.stderr)")
                var after = stat()
                stat(fixture.stored(last), &after)
                #expect(before.st_ino == after.st_ino)

                // The same name with other content (a second cluster on the same repository).
                let other = fixture.directory + "/other"
                try fixture.makeServerDirectory(other)
                var changed = try fixture.bytes(segment)
                changed[changed.count / 2] ^= 0x5A
                try changed.write(to: URL(fileURLWithPath: other + "/" + last))
                chmod(other + "/" + last, 0o644)
                let conflict = try await fixture.push(other + "/" + last)
                #expect(conflict.status == 1)
                let storedSum = try WALPush.digest(open(segment, O_RDONLY), path: segment, size: Int64(changed.count)).sha256Hex
                let otherSum = try WALPush.digest(open(other + "/" + last, O_RDONLY), path: other, size: Int64(changed.count)).sha256Hex
                #expect(conflict.stderr.contains(storedSum) && conflict.stderr.contains(otherSum), "\(conflict.stderr)")

                // A truncated copy is never archived: at any length, and at a power of two too
                // (its header says 16 MB segments).
                let next = nextName(after: last)
                let truncated = other + "/" + next
                for length in [(5 << 20) + 1234, 8 << 20] {
                    try fixture.bytes(segment).prefix(length).write(to: URL(fileURLWithPath: truncated))
                    chmod(truncated, 0o644)
                    let refused = try await fixture.push(truncated)
                    #expect(refused.status == 64, "\(refused.stderr)")
                    #expect(refused.stderr.contains(length == 8 << 20 ? "header says 16777216-byte segments" : "not a WAL segment size"), "\(refused.stderr)")
                    #expect(!FileManager.default.fileExists(atPath: fixture.stored(next)))
                }

                let failed: Int64 = try await connection.query("SELECT failed_count FROM pg_stat_archiver").first!.decode("failed_count")
                #expect(failed == 0, "the server saw no failed archive_command:\n\(cluster.serverLog)")
            }
        }
    }

    func waitUntilArchived(_ name: String, on connection: PostgresConnection, cluster: PrivateCluster) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let row = try await connection.query("SELECT coalesce(last_archived_wal, '') AS wal FROM pg_stat_archiver").first!
            let archived: String = try row.decode("wal")
            if archived.count == 24, archived >= name { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironmentError("\(name) was not archived within 60 s; server log:\n\(cluster.serverLog)")
    }

    func nextName(after name: String) -> String {
        let segment = UInt32(name.suffix(8), radix: 16)! + 1
        let hex = String(segment, radix: 16, uppercase: true)
        return String(name.prefix(16)) + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
