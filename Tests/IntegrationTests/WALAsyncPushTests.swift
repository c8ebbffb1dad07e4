import Foundation
import PostgresClient
import TestSupport
import Testing

/// `wal-push --async`: PostgreSQL's call answered from a spool a background pusher fills.
@Suite("Asynchronous WAL archiving")
struct WALAsyncPushTests {
    @Test func aClusterUnderWriteLoadArchivesAsynchronouslyIdenticalToTheSynchronousPath() async throws {
        try await WALFixture.with { fixture in
            let spool = fixture.directory + "/spool"
            try fixture.makeServerDirectory(spool)
            let settings = [
                "wal_level": "replica", "archive_mode": "on",
                "archive_command": "'\(fixture.binary)' wal-push --async --push-ahead 4 --repository '\(fixture.repository)' --spool '\(spool)' %p",
                "wal_keep_size": "1GB",
            ]
            try await PrivateCluster.with(settings: settings, in: fixture.directory + "/cluster") { cluster in
                let connection = try await PostgresConnection.connect(cluster.configuration)
                defer { connection.close() }
                try await connection.execute("CREATE TABLE filler (g int, h text)")
                for _ in 0..<8 {
                    try await connection.execute("INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 150000) g")
                }
                let last: String = try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").first!.decode("name")
                try await connection.execute("SELECT pg_switch_wal()")
                try await waitUntilArchived(last, on: connection, cluster: cluster)

                let failed: Int64 = try await connection.query("SELECT failed_count FROM pg_stat_archiver").first!.decode("failed_count")
                #expect(failed == 0, "the server saw no failed archive_command:\n\(cluster.serverLog)\n\(log(spool))")
                let archived = fixture.files(in: "\(fixture.repository)/wal/00000001/0000000100000000").filter { !$0.hasPrefix(".") }
                #expect(archived.count >= 8, "\(archived)")

                // The same segments pushed synchronously into a second repository: the same bytes.
                let synchronous = fixture.directory + "/synchronous"
                try fixture.makeServerDirectory(synchronous)
                let restoreDirectory = fixture.directory + "/restore"
                try fixture.makeServerDirectory(restoreDirectory)
                for stored in archived {
                    let name = String(stored.dropLast(4))
                    let segment = cluster.dataDirectory + "/pg_wal/" + name
                    let push = try await fixture.run(["wal-push", "--repository", synchronous, segment])
                    #expect(push.status == 0, "\(push.stderr)")
                    let asyncCopy = try fixture.bytes(fixture.stored(name))
                    let syncCopy = try fixture.bytes(synchronous + "/wal/00000001/0000000100000000/" + stored)
                    #expect(asyncCopy == syncCopy, "\(name) is stored exactly as the synchronous path stores it")
                    let restored = restoreDirectory + "/RECOVERYXLOG"
                    let get = try await fixture.get(name, to: restored)
                    #expect(get.status == 0, "\(get.stderr)")
                    #expect(try fixture.bytes(restored) == (try fixture.bytes(segment)), "\(name) comes back byte for byte")
                }
                #expect(!fixture.files(in: spool).contains { $0.hasSuffix(".error") }, "\(fixture.files(in: spool))")
                #expect(log(spool).contains("wal-pusher: started"), "\(log(spool))")
            }
        }
    }

    @Test func killingThePusherMidPushLosesNoAcknowledgedSegmentAndTheNextCallRecovers() async throws {
        try await WALFixture.with { fixture in
            let spool = fixture.directory + "/spool"
            try fixture.makeServerDirectory(spool)
            let settings = [
                "wal_level": "replica", "archive_mode": "on",
                "archive_command": "'\(fixture.binary)' wal-push --async --repository '\(fixture.repository)' --spool '\(spool)' %p",
                "wal_keep_size": "1GB",
            ]
            try await PrivateCluster.with(settings: settings, in: fixture.directory + "/cluster") { cluster in
                let connection = try await PostgresConnection.connect(cluster.configuration)
                defer { connection.close() }
                try await connection.execute("CREATE TABLE filler (g int, h text)")
                var kills = 0
                for _ in 0..<8 {
                    try await connection.execute("INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 150000) g")
                    try await Task.sleep(for: .milliseconds(Int.random(in: 20...150)))
                    if let pid = pusherPID(spool), kill(pid, SIGKILL) == 0 { kills += 1 }
                }
                #expect(kills >= 1, "no pusher was running to kill")
                let last: String = try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").first!.decode("name")
                try await connection.execute("SELECT pg_switch_wal()")
                try await waitUntilArchived(last, on: connection, cluster: cluster)

                // Every file PostgreSQL was told is archived (`.done`) is in the repository, intact.
                let done = fixture.files(in: cluster.dataDirectory + "/pg_wal/archive_status").filter { $0.hasSuffix(".done") }.map { String($0.dropLast(5)) }
                #expect(done.count >= 8, "\(done)")
                let restoreDirectory = fixture.directory + "/restore"
                try fixture.makeServerDirectory(restoreDirectory)
                for name in done where !name.hasSuffix(".history") && !name.hasSuffix(".backup") {
                    let restored = restoreDirectory + "/RECOVERYXLOG"
                    let get = try await fixture.get(name, to: restored)
                    #expect(get.status == 0, "\(name) was acknowledged but is not restorable: \(get.stderr)\n\(log(spool))")
                    #expect(try fixture.bytes(restored) == (try fixture.bytes(cluster.dataDirectory + "/pg_wal/" + name)), "\(name) comes back byte for byte")
                }
                #expect(log(spool).components(separatedBy: "wal-pusher: started").count - 1 >= 2, "a new pusher took over:\n\(log(spool))")
            }
        }
    }

    @Test(.enabled(if: getuid() == 0, "an unwritable repository needs another user than the server's"))
    func anUnwritableRepositoryRecordsAnErrorExitsOneAndIsRetriedByTheNextCall() async throws {
        try await WALFixture.with { fixture in
            let (wal, spool) = try makeReadyDirectory(fixture, names: ["000000010000000000000003"])
            let repository = fixture.directory + "/root-owned"
            try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
            chmod(repository, 0o755)  // root's: postgres may read, not write
            let push = try await fixture.run(["wal-push", "--async", "--repository", repository, "--spool", spool, wal + "/000000010000000000000003"])
            #expect(push.status == 1)
            #expect(push.stderr.contains("Permission denied"), "\(push.stderr)")
            #expect(fixture.files(in: spool).contains("000000010000000000000003.error"), "\(fixture.files(in: spool))")
            #expect(!fixture.files(in: spool).contains("000000010000000000000003.ok"))
            #expect(fixture.files(in: repository).isEmpty)

            try PrivateCluster.handToServerUser(repository)
            let retry = try await fixture.run(["wal-push", "--async", "--repository", repository, "--spool", spool, wal + "/000000010000000000000003"])
            #expect(retry.status == 0, "\(retry.stderr)\n\(log(spool))")
            #expect(FileManager.default.fileExists(atPath: repository + "/wal/00000001/0000000100000000/000000010000000000000003.zst"))
            #expect(!fixture.files(in: spool).contains("000000010000000000000003.error"), "the retry removed the error: \(fixture.files(in: spool))")
            #expect(fixture.files(in: spool).contains("000000010000000000000003.ok"))
        }
    }

    @Test func twoConcurrentCallsStartOnePusher() async throws {
        try await WALFixture.with { fixture in
            let names = ["000000010000000000000005", "000000010000000000000006"]
            let (wal, spool) = try makeReadyDirectory(fixture, names: names)
            let arguments = names.map { ["wal-push", "--async", "--repository", fixture.repository, "--spool", spool, wal + "/" + $0] }
            let (a, b) = (arguments[0], arguments[1])
            async let first = fixture.run(a)
            async let second = fixture.run(b)
            let (one, two) = try await (first, second)
            #expect(one.status == 0, "\(one.stderr)")
            #expect(two.status == 0, "\(two.stderr)")
            for name in names { #expect(FileManager.default.fileExists(atPath: fixture.stored(name))) }
            #expect(log(spool).components(separatedBy: "wal-pusher: started").count - 1 == 1, "\(log(spool))")
        }
    }

    @Test func anAcknowledgementForAnotherFileOfTheSameNameIsNotTrusted() async throws {
        try await WALFixture.with { fixture in
            let name = "000000010000000000000009"
            let (wal, spool) = try makeReadyDirectory(fixture, names: [name])
            // A stale `.ok` (another cluster's spool, a restored data directory) for a file never pushed.
            try "device=1 inode=2 size=16777216 mtime_ns=3 sha256=00\n".write(toFile: spool + "/" + name + ".ok", atomically: false, encoding: .utf8)
            try PrivateCluster.handToServerUser(spool + "/" + name + ".ok")
            let push = try await fixture.run(["wal-push", "--async", "--repository", fixture.repository, "--spool", spool, wal + "/" + name])
            #expect(push.status == 0, "\(push.stderr)")
            #expect(FileManager.default.fileExists(atPath: fixture.stored(name)), "pushed, not acknowledged from the stale file")
        }
    }

    /// A pg_wal look-alike with `names` as random 1 MB segments marked ready, and a spool.
    func makeReadyDirectory(_ fixture: WALFixture, names: [String]) throws -> (wal: String, spool: String) {
        let wal = fixture.directory + "/pg_wal"
        let spool = fixture.directory + "/spool"
        try fixture.makeServerDirectory(wal + "/archive_status")
        try fixture.makeServerDirectory(spool)
        for name in names {
            try SyntheticWALSegment.write(to: wal + "/" + name, name: name, size: 1 << 20, random: true)
            #expect(FileManager.default.createFile(atPath: wal + "/archive_status/" + name + ".ready", contents: nil))
        }
        try PrivateCluster.handToServerUser(wal)
        return (wal, spool)
    }

    func log(_ spool: String) -> String {
        (try? String(contentsOfFile: spool + "/pusher.log", encoding: .utf8)) ?? ""
    }

    func pusherPID(_ spool: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: spool + "/pusher.lock", encoding: .utf8) else { return nil }
        // Only a live pusher: the pid stays in the file after it exits, and may be reused.
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8), command.contains("wal-pusher") else { return nil }
        return pid
    }

    func waitUntilArchived(_ name: String, on connection: PostgresConnection, cluster: PrivateCluster) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let row = try await connection.query("SELECT coalesce(last_archived_wal, '') AS wal FROM pg_stat_archiver").first!
            let archived: String = try row.decode("wal")
            if archived.count == 24, archived >= name { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestEnvironmentError("\(name) was not archived within 120 s; server log:\n\(cluster.serverLog)")
    }
}
