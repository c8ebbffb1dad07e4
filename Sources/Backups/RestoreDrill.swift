import Foundation
import Logging
import PostgresClient

/// Proves a backup restorable: restores each of its databases into a scratch database,
/// compares every table's exact row count with the manifest, runs the profile's smoke queries,
/// measures the time to restore (RTO) and the backup's age (RPO), always drops the scratch
/// databases, and records the result in `orchestrator.restore_drills`.
package struct RestoreDrill: Sendable {
    package struct Mismatch: Sendable, Equatable, Codable {
        package let database: String
        package let table: String
        package let expected: Int64
        package let found: Int64?
    }

    package struct Outcome: Sendable {
        package let backupID: Int64
        package let passed: Bool
        package let restoreSeconds: Double
        package let backupAgeSeconds: Double
        package let tablesChecked: Int
        package let mismatches: [Mismatch]
        package let error: String?
    }

    let environment: BackupEnvironment

    package init(environment: BackupEnvironment) { self.environment = environment }

    /// `repository`: the remote repository `record` was fetched from, for the record; nil for this host's.
    package func run(_ record: BackupRecord, jobID: Int64?, repository: String? = nil) async throws -> Outcome {
        guard record.method == .logical else {
            throw BackupRequestError("backup \(record.id) is physical; drill it with pitr-drill")
        }
        let started = Date()
        let restorer = BackupRestorer(environment: environment, priority: environment.configuration.backups.priority)
        var restoreSeconds = 0.0
        var tablesChecked = 0
        var mismatches: [Mismatch] = []
        var failure: String?
        let manifest = try await BackupRestorer.manifest(of: record)
        let smokeQueries = environment.configuration.backups.profiles[record.profile]?.smokeQueries ?? []
        for (index, dump) in manifest.databases.enumerated() {
            let scratch = "orchestrator_drill_\(jobID.map(String.init) ?? String(record.id))_\(index)"
            let server = restorer.serverConnection(for: dump)
            do {
                let clock = ContinuousClock.now
                _ = try await restorer.restoreDatabase(dump, from: record, into: scratch, options: .init(database: scratch), jobID: jobID)
                restoreSeconds += (ContinuousClock.now - clock).seconds
                let session = try await PostgresConnection.connect(server.withDatabase(scratch))
                defer { session.close() }
                for table in dump.tables {
                    tablesChecked += 1
                    let sql = "SELECT count(*) AS n FROM ONLY \(try SQLIdentifier.quoted(table.schema)).\(try SQLIdentifier.quoted(table.table))"
                    let found: Int64? = try? await session.query(sql).first?.decode("n")
                    if found != table.rows {
                        mismatches.append(Mismatch(database: dump.name, table: "\(table.schema).\(table.table)", expected: table.rows, found: found))
                    }
                }
                for query in smokeQueries {
                    do {
                        guard try await !session.query(query).rows.isEmpty else {
                            throw BackupError("returned no rows")
                        }
                    } catch {
                        throw BackupError("smoke query failed on \(dump.name): \(query.prefix(80)): \(error)")
                    }
                }
            } catch {
                failure = "\(error)"
            }
            await dropScratch(scratch, server: server)
            if failure != nil { break }
        }
        if failure == nil, let first = mismatches.first {
            failure = "row count differs in \(first.database).\(first.table): backup has \(first.expected), restored \(first.found.map(String.init) ?? "no such table")"
                + (mismatches.count > 1 ? " (and \(mismatches.count - 1) more tables)" : "")
        }
        let snapshot = manifest.databases.map(\.snapshotTime).min() ?? record.finishedAt
        let outcome = Outcome(
            backupID: record.id, passed: failure == nil, restoreSeconds: restoreSeconds,
            backupAgeSeconds: Date().timeIntervalSince(snapshot), tablesChecked: tablesChecked, mismatches: mismatches, error: failure
        )
        try await environment.withOrchestratorDatabase { connection in
            try await store(outcome, startedAt: started, jobID: jobID, repository: repository, on: connection)
        }
        return outcome
    }

    private func dropScratch(_ name: String, server: ConnectionConfiguration) async {
        do {
            let admin = try await PostgresConnection.connect(server.withDatabase("postgres"))
            defer { admin.close() }
            try await admin.execute("DROP DATABASE IF EXISTS \(try SQLIdentifier.quoted(name)) WITH (FORCE)")
        } catch {
            environment.logger.error("could not drop the drill's scratch database; drop it by hand", metadata: ["db.name": "\(name)", "error": "\(error)"])
        }
    }

    private func store(_ outcome: Outcome, startedAt: Date, jobID: Int64?, repository: String?, on connection: PostgresConnection) async throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let mismatches = String(decoding: try encoder.encode(outcome.mismatches), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO orchestrator.restore_drills
                (backup_id, job_id, started_at, finished_at, status, restore_seconds, backup_age, tables_checked, mismatches, error, repository)
            VALUES ($1, $2, $3, now(), $4, $5, make_interval(secs => $6), $7, $8::jsonb, $9, $10)
            """,
            [outcome.backupID, jobID, startedAt, outcome.passed ? "passed" : "failed", outcome.restoreSeconds,
             outcome.backupAgeSeconds, outcome.tablesChecked, mismatches, outcome.error, repository]
        )
    }
}
