import Foundation
import PostgresClient
import TestSupport
import Testing

/// PostgreSQL itself recovering through `restore_command = '... wal-get %f %p'`: a base backup
/// taken without WAL (`-X none`) is brought up to date from the archive alone.
@Suite("WAL recovery with a cluster")
struct WALRecoveryTests {
    @Test func aBaseBackupRecoversFromTheArchiveAndTheNewTimelineIsArchived() async throws {
        try await WALFixture.with { fixture in
            let archive = "'\(fixture.binary)' wal-push --repository '\(fixture.repository)' %p"
            let settings = ["wal_level": "replica", "archive_mode": "on", "archive_command": archive]
            let backupParent = fixture.directory + "/base"
            try fixture.makeServerDirectory(backupParent)
            let expected: Int64 = try await PrivateCluster.with(settings: settings, in: fixture.directory + "/primary") { primary in
                let connection = try await PostgresConnection.connect(primary.configuration)
                defer { connection.close() }
                try await connection.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
                try PrivateCluster.runAsServerUser([
                    try PrivateCluster.binaryDirectory() + "/pg_basebackup", "-h", primary.socketDirectory, "-p", String(PrivateCluster.port),
                    "-U", "postgres", "-D", backupParent + "/data", "-X", "none", "-c", "fast", "--no-sync",
                ])
                // Written after the backup: only the archive has it.
                try await connection.execute("INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 5000) g")
                let last: String = try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").first!.decode("name")
                try await connection.execute("SELECT pg_switch_wal()")
                try await Self.waitFor("\(last) archived", cluster: primary) {
                    let archived: String = try await connection.query("SELECT coalesce(last_archived_wal, '') AS wal FROM pg_stat_archiver").first!.decode("wal")
                    return archived.count == 24 && archived >= last
                }
                let labels = fixture.files(in: "\(fixture.repository)/wal/00000001/0000000100000000").filter { $0.hasSuffix(".backup.zst") }
                #expect(labels.count == 1, "the backup label is archived: \(labels)")
                return try await connection.query("SELECT count(*) AS n FROM orders").first!.decode("n")
            }
            #expect(expected == 5000)

            let restoreSettings = [
                "restore_command": "'\(fixture.binary)' wal-get --repository '\(fixture.repository)' %f %p",
                "archive_command": archive,
            ]
            try await PrivateCluster.with(settings: restoreSettings, in: fixture.directory + "/restored", dataFrom: backupParent + "/data", prepare: { cluster in
                FileManager.default.createFile(atPath: cluster.dataDirectory + "/recovery.signal", contents: Data())
                try PrivateCluster.handToServerUser(cluster.dataDirectory + "/recovery.signal")
            }) { restored in
                let connection = try await PostgresConnection.connect(restored.configuration)
                defer { connection.close() }
                try await Self.waitFor("the end of recovery", cluster: restored) {
                    let recovering: Bool = try await connection.query("SELECT pg_is_in_recovery() AS r").first!.decode("r")
                    return !recovering
                }
                let count: Int64 = try await connection.query("SELECT count(*) AS n FROM orders").first!.decode("n")
                #expect(count == expected, "every row written after the backup came back from the archive")
                let timeline: Int32 = try await connection.query("SELECT timeline_id FROM pg_control_checkpoint()").first!.decode("timeline_id")
                #expect(timeline == 2)
                // The promoted server archives its new timeline's history file.
                try await Self.waitFor("00000002.history archived", cluster: restored) {
                    FileManager.default.fileExists(atPath: fixture.stored("00000002.history"))
                }
                let complaints = restored.serverLog.split(separator: "\n").filter { $0.contains("wal-get") && !$0.contains("is not in the archive") }
                #expect(complaints.isEmpty, "wal-get said only \"not in the archive\":\n\(restored.serverLog)")
            }
        }
    }

    static func waitFor(_ what: String, cluster: PrivateCluster, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironmentError("no \(what) within 90 s; server log:\n\(cluster.serverLog)")
    }
}
