import Database
import Foundation
import PostgresClient
import Runtime
import Settings
import Support
import TestSupport
import Testing

/// `wal_stream:`: the worker supervises pg_receivewal against a real cluster and moves what it
/// receives into the repository.
@Suite("WAL streaming with pg_receivewal")
struct WALStreamTests {
    @Test func streamedSegmentsReachTheRepositoryIdenticalAndAKilledReceiverIsRestarted() async throws {
        try await withStreamingCluster { fixture, cluster, harness, connector in
            let worker = streamingWorker(harness, connector)
            try await running(worker) {
                let first = try await expectOneReceiver(fixture)
                let connection = try await PostgresConnection.connect(cluster.configuration)
                defer { connection.close() }
                try await connection.execute("CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 200000) g")
                let last: String = try await connection.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").first!.decode("name")
                try await connection.execute("SELECT pg_switch_wal()")
                try await expectEventually(timeout: .seconds(60)) { FileManager.default.fileExists(atPath: fixture.stored(last)) }

                // The worker's user wrote the repository; it reads it back.
                let restoreDirectory = fixture.directory + "/restore"
                try FileManager.default.createDirectory(atPath: restoreDirectory, withIntermediateDirectories: true)
                let stored = fixture.files(in: "\(fixture.repository)/wal/00000001/0000000100000000").filter { !$0.hasPrefix(".") }
                #expect(stored.count >= 2, "\(stored)")
                for file in stored {
                    let name = String(file.dropLast(4))
                    let get = try await fixture.run(["wal-get", "--repository", fixture.repository, name, restoreDirectory + "/RECOVERYXLOG"], asServerUser: false)
                    #expect(get.status == 0, "\(get.stderr)")
                    let original = try fixture.bytes(cluster.dataDirectory + "/pg_wal/" + name)
                    #expect(try fixture.bytes(restoreDirectory + "/RECOVERYXLOG") == original, "\(name) as the server wrote it")
                }
                let spool = fixture.files(in: fixture.directory + "/stream")
                #expect(!spool.contains(last), "moved out of the spool once stored: \(spool)")

                // pg_receivewal killed outright: the worker starts another.
                if let first { kill(first, SIGKILL) }
                var replacement: pid_t?
                try await expectEventually(timeout: .seconds(30)) {
                    replacement = receivers(fixture).first
                    return replacement != nil && replacement != first
                }
                let slots: Int = try await connection.query("SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'orchestrator'").first!.decode("n")
                #expect(slots == 1, "the slot was created once")
            }
            #expect(receivers(fixture).isEmpty, "pg_receivewal stops with the worker")
        }
    }

    @Test func twoWorkersStreamOnceAndOneStillStreamsWhenTheOtherStops() async throws {
        try await withStreamingCluster { fixture, cluster, harness, connector in
            let one = streamingWorker(harness, connector)
            let two = streamingWorker(harness, connector)
            try await running(one) {
                try await running(two) {
                    _ = try await expectOneReceiver(fixture)
                    for _ in 0..<10 {
                        #expect(receivers(fixture).count <= 1, "two receivers at once")
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    let connection = try await PostgresConnection.connect(cluster.configuration)
                    defer { connection.close() }
                    let senders: Int = try await connection.query("SELECT count(*)::int AS n FROM pg_stat_replication").first!.decode("n")
                    #expect(senders == 1)
                }
                // Whichever stopped, one worker streams afterwards (the other takes the lock over).
                _ = try await expectOneReceiver(fixture, timeout: .seconds(45))
            }
        }
    }

    /// A cluster with wal_level=replica and a REPLICATION role, a repository and spool, and a
    /// harness whose configuration streams from it.
    func withStreamingCluster(
        _ body: (WALFixture, PrivateCluster, Harness, DatabaseConnector) async throws -> Void
    ) async throws {
        try await WALFixture.with { fixture in
            let settings = ["wal_level": "replica", "max_wal_senders": "4", "wal_keep_size": "1GB"]
            try await PrivateCluster.with(settings: settings, in: fixture.directory + "/cluster") { cluster in
                let admin = try await PostgresConnection.connect(cluster.configuration)
                try await admin.execute("CREATE ROLE streamer LOGIN REPLICATION")
                admin.close()
                // The worker runs as this test's user and owns the spool and, here, the repository.
                try FileManager.default.createDirectory(atPath: fixture.directory + "/stream", withIntermediateDirectories: true)
                var configuration = Configuration()
                configuration.databases = ["source": TargetDatabase(dbname: "postgres", urlEnv: "WAL_STREAM_SOURCE_URL")]
                configuration.walStream = WALStreamSettings(database: "source", spool: fixture.directory + "/stream")
                configuration.walArchive = WALArchiveSettings(repository: fixture.repository)
                try await Harness.with(configuration: configuration) { harness in
                    var environment = ProcessInfo.processInfo.environment
                    environment["WAL_STREAM_SOURCE_URL"] = "postgresql:///postgres?host=\(cluster.socketDirectory)&port=\(PrivateCluster.port)&user=streamer"
                    let connector = DatabaseConnector(orchestrator: harness.database.configuration, environment: environment)
                    try await body(fixture, cluster, harness, connector)
                }
            }
        }
    }

    func streamingWorker(_ harness: Harness, _ connector: DatabaseConnector) -> Worker {
        Worker(
            configuration: harness.configuration,
            options: .init(settings: Harness.fastWorker, scheduler: SchedulerSettings(enabled: false)),
            connector: connector, registry: .standard, logger: Harness.logger
        )
    }

    /// Waits for exactly one pg_receivewal writing into this fixture's spool; returns its pid.
    func expectOneReceiver(_ fixture: WALFixture, timeout: Duration = .seconds(30)) async throws -> pid_t? {
        try await expectEventually(timeout: timeout) { receivers(fixture).count == 1 }
        return receivers(fixture).first
    }

    /// pg_receivewal processes streaming into this fixture's spool.
    func receivers(_ fixture: WALFixture) -> [pid_t] {
        let wanted = "--directory=\(fixture.directory)/stream"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.first?.hasSuffix("pg_receivewal") == true, arguments.contains(wanted) else { return nil }
            // A zombie is not a receiver.
            let status = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)) ?? ""
            return status.contains(") Z ") ? nil : pid
        }
    }
}
