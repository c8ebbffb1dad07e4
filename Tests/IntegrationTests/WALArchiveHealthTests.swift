@testable import Alerts
@testable import Database
import Foundation
@testable import Health
import PostgresClient
@testable import Settings
import TestSupport
import Testing
@testable import WALArchive

/// Archive health against a real PostgreSQL archiving through `wal-push` into a fixture
/// repository: the repository scan, the health samples, the built-in alerts (stored in a
/// migrated database of the shared server) and `orchestrator wal status`.
@Suite("WAL archive health", .serialized)
struct WALArchiveHealthTests {
    static let urlVariable = "WAL_HEALTH_CLUSTER_URL"

    /// What a test works with: the archiving cluster, its repository, and a harness whose
    /// configuration samples the cluster as database `app` and scans the repository.
    struct Context {
        let fixture: WALFixture
        let cluster: PrivateCluster
        let server: PostgresConnection
        let harness: Harness
        let orchestrator: PostgresConnection

        var subject: String { "server:\(WALArchiveHealthTests.urlVariable)" }

        func sample() async throws -> HealthRun {
            try await HealthSampler(configuration: harness.configuration, connector: harness.connector, logger: Harness.logger, hostName: "test-host")
                .sample(orchestrator: orchestrator)
        }

        /// Samples, stores the run and evaluates the built-in alerts, as the health kind does.
        func sampleAndCheck() async throws -> (HealthRun, AlertEvaluator.Report) {
            let run = try await sample()
            try await HealthStore.store(run, jobID: nil, on: orchestrator)
            let report = try await AlertEvaluator(configuration: harness.configuration, logger: Harness.logger).checkBuiltin(on: orchestrator)
            return (run, report)
        }

        func switchAndWaitUntilArchived() async throws -> String {
            try await server.execute("INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 2000) g")
            let last: String = try await server.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").single().decode("name")
            try await server.execute("SELECT pg_switch_wal()")
            try await WALRecoveryTests.waitFor("\(last) archived", cluster: cluster) {
                let archived: String = try await server.query("SELECT coalesce(last_archived_wal, '') AS wal FROM pg_stat_archiver").single().decode("wal")
                return archived.count == 24 && archived >= last
            }
            return last
        }
    }

    static func with(archiveInto repository: ((WALFixture) -> String)? = nil, _ body: (Context) async throws -> Void) async throws {
        try await WALFixture.with { fixture in
            let target = repository?(fixture) ?? fixture.repository
            let settings = [
                "wal_level": "replica", "archive_mode": "on",
                "archive_command": "'\(fixture.binary)' wal-push --repository '\(target)' %p",
            ]
            try await PrivateCluster.with(settings: settings, in: fixture.directory + "/cluster") { cluster in
                let server = try await PostgresConnection.connect(cluster.configuration)
                defer { server.close() }
                try await server.execute("CREATE TABLE filler (g int, h text)")
                try await TestDatabase.with { database in
                    let orchestrator = try await database.connect()
                    defer { orchestrator.close() }
                    _ = try await Migrator(directory: Harness.migrationsDirectory).migrate(orchestrator, appliedBy: "tests", logger: Harness.logger)
                    let url = "postgresql:///postgres?host=\(cluster.socketDirectory)&port=\(PrivateCluster.port)&user=postgres"
                    let harness = Harness(
                        database: database,
                        connector: DatabaseConnector(orchestrator: database.configuration, environment: [urlVariable: url]),
                        configuration: Configuration(
                            databases: ["app": TargetDatabase(dbname: "postgres", urlEnv: urlVariable)],
                            health: HealthSettings(mounts: [], cpuIntervalMs: 50),
                            walArchive: WALArchiveSettings(repository: fixture.repository)
                        )
                    )
                    try await body(Context(fixture: fixture, cluster: cluster, server: server, harness: harness, orchestrator: orchestrator))
                }
            }
        }
    }

    static func value(_ run: HealthRun, _ subject: String, _ metric: String) -> HealthSample? {
        run.samples.first { $0.subject == subject && $0.metric == metric }
    }

    /// `orchestrator wal status` with its standard output.
    static func walStatus(_ fixture: WALFixture, _ extra: [String] = [], repository: String? = nil, asServerUser: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        try command(fixture, ["wal", "status", "--repository", repository ?? fixture.repository] + extra, asServerUser: asServerUser)
    }

    static func command(_ fixture: WALFixture, _ arguments: [String], environment: [String: String] = [:], asServerUser: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let full = PrivateCluster.runsAsRoot && asServerUser ? ["/usr/sbin/runuser", "-u", "postgres", "--", fixture.binary] + arguments : [fixture.binary] + arguments
        process.executableURL = URL(fileURLWithPath: full[0])
        process.arguments = Array(full.dropFirst())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func aHealthyArchiveHasNoGapThenADeletedSegmentIsAGapInTheScanSamplesAlertAndCommand() async throws {
        try await Self.with { context in
            var archived: [String] = []
            for _ in 0..<4 { archived.append(try await context.switchAndWaitUntilArchived()) }

            let healthy = try WALRepositoryScan.scan(try WALRepository(root: context.fixture.repository))
            #expect(healthy.gaps.isEmpty && healthy.segmentSize == 16 << 20 && healthy.timelines.map(\.name) == ["00000001"])
            #expect(healthy.segments >= 4 && healthy.timelines[0].lastSegment == archived.last, "\(healthy)")

            let (run, report) = try await context.sampleAndCheck()
            #expect(Self.value(run, context.subject, "pg.archive_pending_segments")?.value == 0, "\(run.samples.filter { $0.metric.hasPrefix("pg.archive") })")
            #expect(Self.value(run, context.subject, "pg.archive_behind_seconds")?.value == 0)
            #expect(Self.value(run, context.subject, "pg.archive_failing")?.value == 0)
            #expect(Self.value(run, context.subject, "pg.archive_failed_total")?.value == 0)
            #expect(Self.value(run, "wal", "wal.gaps")?.value == 0 && Self.value(run, "wal/00000001", "wal.gaps")?.status == .ok)
            #expect(Self.value(run, "wal", "wal.segments")?.value == Double(healthy.segments))
            #expect(report.notices.isEmpty, "\(report.notices)")
            let ok = try Self.walStatus(context.fixture)
            #expect(ok.status == 0 && ok.stdout.contains("00000001") && !ok.stdout.contains("gap after"), "\(ok)")

            // An operator (or a clean-up script) deletes a segment in the middle.
            let missing = archived[1]
            let aside = context.fixture.directory + "/aside.zst"
            try FileManager.default.moveItem(atPath: context.fixture.stored(missing), toPath: aside)
            let holed = try WALRepositoryScan.scan(try WALRepository(root: context.fixture.repository))
            let gap = try #require(holed.gaps.first?.gap)
            #expect(holed.gaps.count == 1 && gap.firstMissing == missing && gap.lastMissing == missing && gap.missing == 1)
            let before = UInt32(missing.suffix(8), radix: 16)! - 1
            #expect(gap.after == String(missing.prefix(16)) + String(format: "%08X", before), "\(gap)")

            let (gapRun, gapReport) = try await context.sampleAndCheck()
            let sample = try #require(Self.value(gapRun, "wal/00000001", "wal.gaps"))
            #expect(sample.value == 1 && sample.status == .failed && sample.message?.contains(missing) == true, "\(sample)")
            #expect(gapReport.notices == ["firing wal_archive_gap:wal/00000001@test-host"], "\(gapReport.notices)")
            let alert = try #require(try await BuiltinAlertTests.open("wal_archive_gap", on: context.orchestrator).first)
            let summary: String = try alert.decode("summary")
            #expect(summary.hasPrefix("gap after segment \(gap.after) on timeline 00000001: missing \(missing)"), "\(summary)")
            #expect(try alert.decode("severity", as: String.self) == "critical")

            let failing = try Self.walStatus(context.fixture)
            #expect(failing.status == 1 && failing.stdout.contains("gap after segment \(gap.after) on timeline 00000001: missing \(missing)"), "\(failing)")
            let json = try Self.walStatus(context.fixture, ["--json"])
            #expect(json.status == 1 && json.stdout.contains("\"first_missing\" : \"\(missing)\"") && json.stdout.contains("\"healthy\" : false"), "\(json.stdout)")

            // `status` shows it from the stored samples; `wal status` finds the repository in the configuration.
            let config = context.fixture.directory + "/orchestrator.yaml"
            try "wal_archive:\n  repository: \(context.fixture.repository)\n".write(toFile: config, atomically: true, encoding: .utf8)
            let status = try Self.command(context.fixture, ["status", "--config", config], environment: ["ORCHESTRATOR_DATABASE_URL": context.harness.database.url])
            #expect(status.status == 0, "\(status)")
            #expect(status.stdout.contains("wal archive \(context.subject)@test-host: last archived \(archived.last!)"), "\(status.stdout)")
            #expect(status.stdout.contains("not behind") && status.stdout.contains("1 gaps"), "\(status.stdout)")
            #expect(status.stdout.contains("warning: gap after segment \(gap.after) on timeline 00000001: missing \(missing)"), "\(status.stdout)")
            let statusJSON = try Self.command(context.fixture, ["status", "--config", config, "--json"], environment: ["ORCHESTRATOR_DATABASE_URL": context.harness.database.url])
            #expect(statusJSON.stdout.contains("\"wal_archive\" : {") && statusJSON.stdout.contains("\"gap_lines\""), "\(statusJSON.stdout)")
            let configured = try Self.command(context.fixture, ["wal", "status", "--config", config])
            #expect(configured.status == 1 && configured.stdout.contains(missing), "\(configured)")

            // The repository's disk is unmounted: nothing can be judged, the gap alert stays.
            let unmounted = context.fixture.directory + "/unmounted"
            try FileManager.default.moveItem(atPath: context.fixture.repository, toPath: unmounted)
            let (blindRun, blind) = try await context.sampleAndCheck()
            let unreadable = try #require(Self.value(blindRun, "wal", "wal.gaps"))
            #expect(unreadable.status == .failed && unreadable.message?.contains("cannot be reached") == true, "\(unreadable)")
            #expect(blind.notices.isEmpty, "an unreadable repository neither resolves nor repeats the gap: \(blind.notices)")
            #expect(try await BuiltinAlertTests.open("wal_archive_gap", on: context.orchestrator).count == 1)
            try FileManager.default.moveItem(atPath: unmounted, toPath: context.fixture.repository)

            // Put back: the alert resolves.
            try FileManager.default.moveItem(atPath: aside, toPath: context.fixture.stored(missing))
            let (_, fixed) = try await context.sampleAndCheck()
            #expect(fixed.notices == ["resolved wal_archive_gap:wal/00000001@test-host"], "\(fixed.notices)")
        }
    }

    @Test func anIdleServerThatArchivedEverythingIsNotBehindForARoleWithoutPrivileges() async throws {
        try await Self.with { context in
            _ = try await context.switchAndWaitUntilArchived()
            try await context.server.execute("CREATE ROLE watcher LOGIN")
            var configuration = context.harness.configuration
            configuration.walArchive = nil
            let url = "postgresql:///postgres?host=\(context.cluster.socketDirectory)&port=\(PrivateCluster.port)&user=watcher"
            let sampler = HealthSampler(configuration: configuration, connector: DatabaseConnector(orchestrator: context.harness.database.configuration,
                                        environment: [Self.urlVariable: url]), logger: Harness.logger, hostName: "test-host")
            // Idle: nothing is written between samples, and the last archive grows older.
            let first = try await sampler.sample(orchestrator: nil)
            try await Task.sleep(for: .seconds(2))
            let second = try await sampler.sample(orchestrator: nil)
            for run in [first, second] {
                let behind = try #require(Self.value(run, context.subject, "pg.archive_behind_seconds"))
                #expect(behind.value == 0 && behind.status == .ok, "\(behind)")
                #expect(Self.value(run, context.subject, "pg.archive_pending_segments")?.value == 0)
                #expect(Self.value(run, context.subject, "pg.archive_failing")?.value == 0)
            }
            #expect(Self.value(second, "app", "pg.sample_ms")?.message?.contains("archiver") != true, "no privilege error: \(String(describing: Self.value(second, "app", "pg.sample_ms")))")
            let age = try #require(Self.value(second, context.subject, "pg.archive_last_archived_seconds")?.value)
            #expect(age >= 2, "the last archive is old, yet the server is not behind")
            #expect(!second.samples.contains { $0.metric.hasPrefix("wal.") }, "no wal_archive: no repository samples")
        }
    }

    @Test func aFailingArchiveCommandIsCountedAndAlertsUntilArchivingWorksAgain() async throws {
        try await Self.with(archiveInto: { $0.directory + "/not-yet" }) { context in
            try await context.server.execute("INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 2000) g")
            let segment: String = try await context.server.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").single().decode("name")
            try await context.server.execute("SELECT pg_switch_wal()")
            try await WALRecoveryTests.waitFor("a failed archive_command", cluster: context.cluster) {
                let failed: Int64 = try await context.server.query("SELECT failed_count FROM pg_stat_archiver").single().decode("failed_count")
                return failed > 0
            }
            let (run, report) = try await context.sampleAndCheck()
            let failing = try #require(Self.value(run, context.subject, "pg.archive_failing"))
            #expect(failing.value == 1 && failing.status == .failed && failing.message?.contains(segment) == true, "\(failing)")
            #expect((Self.value(run, context.subject, "pg.archive_failed_total")?.value ?? 0) >= 1)
            #expect((Self.value(run, context.subject, "pg.archive_pending_segments")?.value ?? 0) >= 1)
            let behind = try #require(Self.value(run, context.subject, "pg.archive_behind_seconds"))
            #expect(behind.value != nil && behind.details["measured_from"] == .string("ready_files"), "\(behind)")
            #expect(report.notices.contains("firing wal_archive_failing:\(context.subject)@test-host"), "\(report.notices)")
            let alert = try #require(try await BuiltinAlertTests.open("wal_archive_failing", on: context.orchestrator).first)
            #expect(try alert.decode("summary", as: String.self).hasPrefix("archiving failing: \(segment) on test-host"))
            #expect(try alert.decode("severity", as: String.self) == "critical")

            // The operator creates the repository: the next attempt archives, the alert resolves.
            try context.fixture.makeServerDirectory(context.fixture.directory + "/not-yet")
            _ = try await context.switchAndWaitUntilArchived()
            let (fixedRun, fixed) = try await context.sampleAndCheck()
            #expect(Self.value(fixedRun, context.subject, "pg.archive_failing")?.value == 0)
            #expect(Self.value(fixedRun, context.subject, "pg.archive_pending_segments")?.value == 0)
            #expect(fixed.notices.contains("resolved wal_archive_failing:\(context.subject)@test-host"), "\(fixed.notices)")
        }
    }

    @Test func theBehindAlertFiresPastItsLimitAndResolvesWhenCaughtUp() async throws {
        try await Self.with { context in
            _ = try await context.switchAndWaitUntilArchived()
            func store(behind: Double) async throws -> AlertEvaluator.Report {
                let run = HealthRun(host: "test-host", takenAt: Date(), durationMs: 1, databaseMs: 1, samples: [
                    HealthSample(.postgres, "server", "pg.archive_behind_seconds", value: behind, unit: "seconds",
                                 details: ["pending_segments": .int(3), "last_archived_wal": .string("000000010000000000000007")]),
                ])
                try await HealthStore.store(run, jobID: nil, on: context.orchestrator)
                return try await AlertEvaluator(configuration: context.harness.configuration, logger: Harness.logger).checkBuiltin(on: context.orchestrator)
            }
            #expect(try await store(behind: 4 * 60).notices.isEmpty, "under warn_behind_minutes (5)")
            #expect(try await store(behind: 12 * 60).notices == ["firing wal_archive_behind:server@test-host"])
            let alert = try #require(try await BuiltinAlertTests.open("wal_archive_behind", on: context.orchestrator).first)
            #expect(try alert.decode("summary", as: String.self).hasPrefix("WAL archive behind 12 min on test-host (server), 3 finished segments waiting"))
            #expect(try alert.decode("severity", as: String.self) == "warning")
            #expect(try await store(behind: 0).notices == ["resolved wal_archive_behind:server@test-host"])
        }
    }

    @Test func aPromotedServerIsTwoTimelinesWithoutAFalseGapAtTheSwitch() async throws {
        try await Self.with { context in
            for _ in 0..<2 { _ = try await context.switchAndWaitUntilArchived() }
            let cluster = context.cluster
            let bin = try PrivateCluster.binaryDirectory()
            // Restart as a standby of its own archive, then promote: timeline 2.
            try PrivateCluster.runAsServerUser(["\(bin)/pg_ctl", "-D", cluster.dataDirectory, "-m", "fast", "-w", "stop"])
            let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: cluster.dataDirectory + "/postgresql.conf"))
            try conf.seekToEnd()
            try conf.write(contentsOf: Data("\nrestore_command = '\(context.fixture.binary) wal-get --repository \(context.fixture.repository) %f %p'\n".utf8))
            try conf.close()
            FileManager.default.createFile(atPath: cluster.dataDirectory + "/standby.signal", contents: Data())
            try PrivateCluster.handToServerUser(cluster.dataDirectory + "/standby.signal")
            try PrivateCluster.runAsServerUser(["\(bin)/pg_ctl", "-D", cluster.dataDirectory, "-l", cluster.dataDirectory + "/server.log", "-w", "-t", "60", "start"])
            let server = try await PostgresConnection.connect(cluster.configuration)
            defer { server.close() }
            try await server.execute("SELECT pg_promote()")
            try await WALRecoveryTests.waitFor("the promotion", cluster: cluster) {
                !(try await server.query("SELECT pg_is_in_recovery() AS r").single().decode("r", as: Bool.self))
            }
            for _ in 0..<2 {
                try await server.execute("INSERT INTO filler SELECT g, md5(g::text) FROM generate_series(1, 2000) g")
                let last: String = try await server.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name").single().decode("name")
                try await server.execute("SELECT pg_switch_wal()")
                try await WALRecoveryTests.waitFor("\(last) archived", cluster: cluster) {
                    let archived: String = try await server.query("SELECT coalesce(last_archived_wal, '') AS wal FROM pg_stat_archiver").single().decode("wal")
                    return archived.count == 24 && archived >= last
                }
            }
            let scan = try WALRepositoryScan.scan(try WALRepository(root: context.fixture.repository))
            #expect(scan.timelines.map(\.name) == ["00000001", "00000002"], "\(scan)")
            #expect(scan.gaps.isEmpty, "no gap on either timeline: \(scan.gaps.map { "\($0.timeline.name) \($0.gap)" })")
            #expect(scan.timelines[1].history && scan.timelines[1].segments >= 2)
            let firstOnTwo = try #require(scan.timelines[1].firstSegment)
            let lastOnOne = try #require(scan.timelines[0].lastSegment)
            #expect(firstOnTwo.suffix(16) > lastOnOne.suffix(16), "timeline 2 continues after timeline 1: \(lastOnOne) -> \(firstOnTwo)")

            let run = try await context.sample()
            #expect(Self.value(run, "wal", "wal.timelines")?.value == 2)
            #expect(Self.value(run, "wal/00000001", "wal.gaps")?.value == 0 && Self.value(run, "wal/00000002", "wal.gaps")?.value == 0)
            #expect(Self.value(run, context.subject, "pg.archive_pending_segments")?.value == 0)
            let status = try Self.walStatus(context.fixture)
            #expect(status.status == 0 && status.stdout.contains("00000002"), "\(status)")
        }
    }

    @Test func anUnreadableRepositoryIsNamedWithTheFixNotACrash() async throws {
        try await WALFixture.with { fixture in
            let missing = WALRepositorySampler.sample(WALArchiveSettings(repository: fixture.directory + "/absent"))
            #expect(missing.count == 2 && missing.allSatisfy { $0.status == .failed && $0.value == nil })
            #expect(missing.first?.message?.contains("cannot be reached") == true, "\(missing)")

            // A repository the reading user may not enter (here: root's 0700 directory, read by postgres).
            let closed = fixture.directory + "/closed"
            try FileManager.default.createDirectory(atPath: closed + "/wal/00000001", withIntermediateDirectories: true)
            chmod(closed + "/wal", 0o700)
            guard PrivateCluster.runsAsRoot else { return }
            let denied = try Self.walStatus(fixture, repository: closed, asServerUser: true)
            #expect(denied.status == 74, "\(denied)")
            #expect(denied.stderr.contains("Permission denied") && denied.stderr.contains("read and search permission"), "\(denied.stderr)")
        }
    }
}
