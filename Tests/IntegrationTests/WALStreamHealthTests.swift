@testable import Alerts
import Database
import Foundation
@testable import Health
import PostgresClient
import Runtime
@testable import Settings
import Support
import TestSupport
import Testing
@testable import WALArchive

/// Health of the two archiving paths pg_stat_archiver knows nothing about, against real
/// clusters and the built binary: `wal_stream`'s receiver and slot (a streaming worker that
/// stops, a slot pinning WAL) and `wal_archive.async`'s spool (a segment the pusher cannot
/// store), through the samples, the built-in alerts and `status`'s model.
@Suite("WAL stream and spool health", .serialized)
struct WALStreamHealthTests {
    static let slotSubject = "server:WAL_STREAM_SOURCE_URL/slot/orchestrator"

    @Test func aReceiverThatStopsShowsAsNotStreamingAndAlertsOnlyAfterItsMinutes() async throws {
        let stream = WALStreamTests()
        try await stream.withStreamingCluster { fixture, _, harness, connector in
            let orchestrator = try await harness.connect()
            defer { orchestrator.close() }
            let sampler = HealthSampler(configuration: harness.configuration, connector: connector, logger: Harness.logger, hostName: "test-host")
            let evaluator = AlertEvaluator(configuration: harness.configuration, logger: Harness.logger)

            try await running(stream.streamingWorker(harness, connector)) {
                _ = try await stream.expectOneReceiver(fixture)
                var run: HealthRun?
                try await expectEventually(timeout: .seconds(30)) {
                    run = try await sampler.sample(orchestrator: orchestrator)
                    return Self.sample(run, "wal.stream_active")?.value == 1
                }
                let active = try #require(Self.sample(run, "wal.stream_active"))
                #expect(active.status == .ok && active.message == nil, "\(active)")
                #expect(active.details["slot"]?.stringValue == "orchestrator")
                let behind = try #require(Self.sample(run, "wal.stream_behind_bytes")?.value, "\(run?.samples ?? [])")
                #expect(behind >= 0 && behind < 64 * 1_048_576, "a receiver that keeps up is within a few segments: \(behind)")
                #expect(Self.sample(run, "wal.stream_spool_segments")?.value != nil, "the spool of the streaming host is read")
                #expect(Self.sample(run, "wal.stream_move_failing")?.value == 0)
                try await HealthStore.store(try #require(run), jobID: nil, on: orchestrator)

                let status = try await WALArchiveStatus.load(on: orchestrator)
                #expect(status.streams.map(\.active) == [true], "\(status.streams)")
                let lock = try #require(status.streamLock, "the streaming worker holds the lock")
                #expect(lock.holder?.hasPrefix(WALStreamSettings.lockHolderPrefix) == true, "\(lock)")
                #expect(try await evaluator.checkBuiltin(on: orchestrator).notices.filter { $0.contains("wal_stream") }.isEmpty)
            }

            // The worker stopped, and pg_receivewal with it: the slot has no receiver.
            var stopped: HealthRun?
            try await expectEventually(timeout: .seconds(30)) {
                stopped = try await sampler.sample(orchestrator: orchestrator)
                return Self.sample(stopped, "wal.stream_active")?.value == 0
            }
            let inactive = try #require(Self.sample(stopped, "wal.stream_active"))
            #expect(inactive.status == .failed)
            #expect(inactive.message?.contains("slot orchestrator has no receiver") == true, "\(inactive.message ?? "")")
            try await HealthStore.store(try #require(stopped), jobID: nil, on: orchestrator)
            let status = try await WALArchiveStatus.load(on: orchestrator)
            #expect(status.streams.map(\.active) == [false])
            #expect(status.streamLock == nil, "nobody streams, nobody holds the lock")

            // Not yet for five minutes (the default): nothing fires; six minutes on, it does.
            #expect(try await evaluator.checkBuiltin(on: orchestrator).notices.filter { $0.contains("wal_stream") }.isEmpty)
            let later = try await evaluator.checkBuiltin(now: Date().addingTimeInterval(6 * 60), on: orchestrator)
            #expect(later.notices.contains("firing wal_stream_stopped:wal_stream@test-host"), "\(later.notices)")
            let alert = try #require(try await BuiltinAlertTests.open("wal_stream_stopped", on: orchestrator).first)
            #expect(try alert.decode("severity", as: String.self) == "critical")
            let summary: String = try alert.decode("summary")
            #expect(summary.hasPrefix("WAL stream stopped for 6 min on test-host (slot orchestrator)"), "\(summary)")
        }
    }

    @Test func aSlotPinningWALReportsWhatItKeepsAndAlertsPastItsLimitUntilDropped() async throws {
        try await WALStreamTests().withStreamingCluster { _, cluster, harness, connector in
            let orchestrator = try await harness.connect()
            defer { orchestrator.close() }
            let server = try await PostgresConnection.connect(cluster.configuration)
            defer { server.close() }
            // A slot that nobody reads (a receiver that never came back): it keeps everything from here.
            try await server.execute("SELECT pg_create_physical_replication_slot('orchestrator', true)")
            try await server.execute("CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 400000) g")
            try await server.execute("SELECT pg_switch_wal()")

            let sampler = HealthSampler(configuration: harness.configuration, connector: connector, logger: Harness.logger, hostName: "test-host")
            let run = try await sampler.sample(orchestrator: orchestrator)
            let retained = try #require(run.samples.first { $0.subject == Self.slotSubject && $0.metric == "pg.slot_retained_bytes" }?.value,
                                        "\(run.samples.filter { $0.metric.contains("slot") || $0.metric.hasPrefix("wal.") })")
            #expect(retained >= 24 * 1_048_576, "the table's WAL is kept: \(retained)")
            let active = try #require(Self.sample(run, "wal.stream_active"))
            #expect(active.value == 0 && active.details["retained_bytes"] != nil, "\(active)")
            try await HealthStore.store(run, jobID: nil, on: orchestrator)
            let status = try await WALArchiveStatus.load(on: orchestrator)
            #expect((status.streams.first?.retainedBytes ?? 0) >= 24 * 1_048_576, "\(status.streams)")

            // Under the default limit (2 GB) it is fine; past a limit of 16 MB it is critical.
            let defaults = try await AlertEvaluator(configuration: harness.configuration, logger: Harness.logger).checkBuiltin(on: orchestrator)
            #expect(!defaults.notices.contains { $0.contains("wal_slot_retained") }, "\(defaults.notices)")
            var strict = harness.configuration
            strict.alerts.builtin.walSlotRetained.limit = 16
            let evaluator = AlertEvaluator(configuration: strict, logger: Harness.logger)
            let fired = try await evaluator.checkBuiltin(on: orchestrator)
            #expect(fired.notices.contains("firing wal_slot_retained:\(Self.slotSubject)@test-host"), "\(fired.notices)")
            let alert = try #require(try await BuiltinAlertTests.open("wal_slot_retained", on: orchestrator).first)
            #expect(try alert.decode("severity", as: String.self) == "critical")
            let summary: String = try alert.decode("summary")
            #expect(summary.hasPrefix("replication slot orchestrator keeps \(Int(retained / 1_048_576)) MB of WAL"), "\(summary)")
            #expect(summary.contains("pg_drop_replication_slot('orchestrator')"), "the fix is named: \(summary)")

            // The slot dropped: nothing is kept, the alert resolves.
            try await server.execute("SELECT pg_drop_replication_slot('orchestrator')")
            let after = try await sampler.sample(orchestrator: orchestrator)
            #expect(Self.sample(after, "wal.stream_active")?.message?.contains("does not exist") == true)
            try await HealthStore.store(after, jobID: nil, on: orchestrator)
            let resolved = try await evaluator.checkBuiltin(on: orchestrator)
            #expect(resolved.notices.contains("resolved wal_slot_retained:\(Self.slotSubject)@test-host"), "\(resolved.notices)")
        }
    }

    @Test func anAsyncSegmentThePusherCannotStoreIsBacklogWithItsAgeAndErrorUntilStored() async throws {
        try await WALFixture.with { fixture in
            let segment = "000000010000000000000003"
            let (wal, spool) = try WALAsyncPushTests().makeReadyDirectory(fixture, names: [segment])
            // `wal` a file where the repository needs a directory: every push fails, for any user.
            #expect(FileManager.default.createFile(atPath: fixture.repository + "/wal", contents: Data("not a directory".utf8)))
            let push = try await fixture.run(["wal-push", "--async", "--repository", fixture.repository, "--spool", spool, wal + "/" + segment])
            #expect(push.status == 1, "\(push.stderr)")

            var configuration = Configuration()
            configuration.walArchive = WALArchiveSettings(repository: fixture.repository, scan: false, async: true, spool: spool)
            try await Harness.with(configuration: configuration) { harness in
                let orchestrator = try await harness.connect()
                defer { orchestrator.close() }
                let sampler = HealthSampler(configuration: configuration, connector: harness.connector, logger: Harness.logger, hostName: "test-host")
                var run: HealthRun?
                try await expectEventually(timeout: .seconds(10)) {
                    run = try await sampler.sample(orchestrator: orchestrator)
                    return Self.sample(run, "wal.async_pending_segments", subject: "wal_async")?.value == 1
                }
                let pending = try #require(Self.sample(run, "wal.async_pending_segments", subject: "wal_async"))
                #expect(pending.details["oldest_pending"]?.stringValue == segment, "\(pending)")
                let age = try #require(Self.sample(run, "wal.async_oldest_pending_seconds", subject: "wal_async")?.value)
                #expect(age >= 0 && age < 120, "ready since the test made it: \(age)")
                let failing = try #require(Self.sample(run, "wal.async_failing", subject: "wal_async"))
                #expect(failing.value == 1 && failing.status == .failed)
                #expect(failing.message?.contains("could not store \(segment)") == true, "\(failing.message ?? "")")
                try await HealthStore.store(try #require(run), jobID: nil, on: orchestrator)
                let status = try await WALArchiveStatus.load(on: orchestrator)
                let shown = try #require(status.asyncSpools.first)
                #expect(shown.pending == 1 && shown.failing && shown.oldestPending == segment, "\(shown)")

                let evaluator = AlertEvaluator(configuration: configuration, logger: Harness.logger)
                #expect(!(try await evaluator.checkBuiltin(on: orchestrator).notices.contains { $0.contains("wal_spool_behind") }))
                // Ten minutes on, still not stored: past wal_archive.warn_behind_minutes (5).
                let later = WALSpoolSampler.sample(configuration, now: Date().addingTimeInterval(10 * 60))
                #expect(try #require(later.first { $0.metric == "wal.async_oldest_pending_seconds" }?.value) >= 600)
                try await HealthStore.store(HealthRun(host: "test-host", takenAt: Date(), durationMs: 1, databaseMs: 0, samples: later), jobID: nil, on: orchestrator)
                let fired = try await evaluator.checkBuiltin(on: orchestrator)
                #expect(fired.notices.contains("firing wal_spool_behind:wal_async@test-host"), "\(fired.notices)")
                let alert = try #require(try await BuiltinAlertTests.open("wal_spool_behind", on: orchestrator).first)
                let summary: String = try alert.decode("summary")
                #expect(summary.hasPrefix("asynchronous archiving: \(segment) not stored for 10 min on test-host"), "\(summary)")
                #expect(try alert.decode("severity", as: String.self) == "warning")

                // The repository fixed, PostgreSQL's retry stores it: no backlog, no failure, resolved.
                try FileManager.default.removeItem(atPath: fixture.repository + "/wal")
                let retry = try await fixture.run(["wal-push", "--async", "--repository", fixture.repository, "--spool", spool, wal + "/" + segment])
                #expect(retry.status == 0, "\(retry.stderr)")
                var fixed: HealthRun?
                try await expectEventually(timeout: .seconds(10)) {
                    fixed = try await sampler.sample(orchestrator: orchestrator)
                    return Self.sample(fixed, "wal.async_pending_segments", subject: "wal_async")?.value == 0
                }
                #expect(Self.sample(fixed, "wal.async_failing", subject: "wal_async")?.value == 0)
                #expect(Self.sample(fixed, "wal.async_oldest_pending_seconds", subject: "wal_async")?.value == 0)
                try await HealthStore.store(try #require(fixed), jobID: nil, on: orchestrator)
                let resolved = try await evaluator.checkBuiltin(on: orchestrator)
                #expect(resolved.notices.contains("resolved wal_spool_behind:wal_async@test-host"), "\(resolved.notices)")
            }
        }
    }

    @Test func streamedSegmentsTheRepositoryCannotTakeWaitInTheSpoolWithTheMoversErrorUntilItCan() async throws {
        let stream = WALStreamTests()
        try await stream.withStreamingCluster { fixture, cluster, harness, connector in
            let orchestrator = try await harness.connect()
            defer { orchestrator.close() }
            // `wal` a file where the repository needs a directory: every move fails.
            #expect(FileManager.default.createFile(atPath: fixture.repository + "/wal", contents: Data("not a directory".utf8)))
            let sampler = HealthSampler(configuration: harness.configuration, connector: connector, logger: Harness.logger, hostName: "test-host")
            let config = fixture.directory + "/orchestrator.yaml"
            try """
                databases:
                  source: {dbname: postgres, url_env: WAL_STREAM_SOURCE_URL}
                wal_stream: {database: source, spool: \(fixture.directory)/stream}
                wal_archive: {repository: \(fixture.repository)}
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let environment = [
                "ORCHESTRATOR_DATABASE_URL": try harness.database.url,
                "WAL_STREAM_SOURCE_URL": "postgresql:///postgres?host=\(cluster.socketDirectory)&port=\(PrivateCluster.port)&user=streamer",
            ]

            try await running(stream.streamingWorker(harness, connector)) {
                _ = try await stream.expectOneReceiver(fixture)
                let server = try await PostgresConnection.connect(cluster.configuration)
                defer { server.close() }
                try await server.execute("CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 100000) g")
                try await server.execute("SELECT pg_switch_wal()")
                var run: HealthRun?
                try await expectEventually(timeout: .seconds(30)) {
                    run = try await sampler.sample(orchestrator: orchestrator)
                    return Self.sample(run, "wal.stream_move_failing")?.value == 1 && (Self.sample(run, "wal.stream_spool_segments")?.value ?? 0) >= 1
                }
                let failing = try #require(Self.sample(run, "wal.stream_move_failing"))
                #expect(failing.status == .failed && failing.message?.hasPrefix("streamed WAL cannot be stored: ") == true, "\(failing)")
                #expect(Self.sample(run, "wal.stream_spool_oldest_seconds")?.value != nil)
                try await HealthStore.store(try #require(run), jobID: nil, on: orchestrator)

                let status = try WALArchiveHealthTests.command(fixture, ["status", "--config", config], environment: environment)
                #expect(status.status == 0, "\(status)")
                #expect(status.stdout.contains("wal stream@test-host: streaming (slot orchestrator)"), "\(status.stdout)")
                #expect(status.stdout.contains("wal stream lock: held by \(WALStreamSettings.lockHolderPrefix)"), "\(status.stdout)")
                #expect(status.stdout.contains("warning: streamed WAL cannot be stored (test-host): "), "\(status.stdout)")
                let json = try WALArchiveHealthTests.command(fixture, ["status", "--config", config, "--json"], environment: environment)
                #expect(json.stdout.contains("\"streams\" : [") && json.stdout.contains("\"move_error\" : \""), "\(json.stdout)")
                let walStatus = try WALArchiveHealthTests.command(fixture, ["wal", "status", "--config", config], environment: environment)
                #expect(walStatus.status == 74, "the repository cannot be listed: \(walStatus)")
                #expect(walStatus.stdout.contains("stream spool \(fixture.directory)/stream: ") && walStatus.stdout.contains("stream spool: moving fails since"),
                        "the spool is shown all the same: \(walStatus.stdout)")

                // Repaired: the mover catches up and its error goes.
                try FileManager.default.removeItem(atPath: fixture.repository + "/wal")
                try await expectEventually(timeout: .seconds(30)) {
                    run = try await sampler.sample(orchestrator: orchestrator)
                    return Self.sample(run, "wal.stream_move_failing")?.value == 0 && Self.sample(run, "wal.stream_spool_segments")?.value == 0
                }
                #expect(Self.sample(run, "wal.stream_spool_oldest_seconds")?.value == 0)
                let repaired = try WALArchiveHealthTests.command(fixture, ["wal", "status", "--config", config, "--json"], environment: environment)
                #expect(repaired.status == 0 && repaired.stdout.contains("\"stream_spool\" : {") && repaired.stdout.contains("\"waiting\" : 0"), "\(repaired)")
                #expect(!repaired.stdout.contains("move_error\" : \""), "\(repaired.stdout)")
            }
        }
    }

    static func sample(_ run: HealthRun?, _ metric: String, subject: String = "wal_stream") -> HealthSample? {
        run?.samples.first { $0.subject == subject && $0.metric == metric }
    }
}
