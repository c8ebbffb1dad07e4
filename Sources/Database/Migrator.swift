import Foundation
import Logging
import PostgresClient

/// One numbered SQL file from `migrations/` (`0001_job_queue.sql`).
package struct MigrationFile: Sendable, Equatable {
    package let version: Int
    package let name: String
    package let sql: String
}

package struct MigrationError: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Applies pending migrations in order, each in its own transaction, under an advisory lock so
/// concurrent `migrate` runs are safe, recording a SHA-256 of every applied file and refusing to
/// run when an applied file was edited since.
package struct Migrator: Sendable {
    /// Arbitrary constant shared by every orchestrator build: the lock that serialises migrations.
    static let advisoryLockKey: Int64 = 0x6F72_6368_6D69_6772
    package let files: [MigrationFile]

    package init(files: [MigrationFile]) { self.files = files }

    /// Reads `NNNN_name.sql` files; anything else ending in `.sql` is an error, not ignored.
    package init(directory: URL) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError("cannot read migrations directory \(directory.path): \(error.localizedDescription)")
        }
        var files: [MigrationFile] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), stem[..<underscore].count == 4 else {
                throw MigrationError("migration file \(name) is not named NNNN_description.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            files.append(MigrationFile(version: version, name: String(stem), sql: sql))
        }
        guard !files.isEmpty else { throw MigrationError("no migration files in \(directory.path)") }
        let versions = files.map(\.version)
        guard Set(versions).count == versions.count else {
            throw MigrationError("two migration files share a version number in \(directory.path)")
        }
        self.files = files
    }

    package struct Report: Sendable, Equatable {
        package var applied: [String]
        package var alreadyApplied: Int
    }

    package func migrate(_ connection: PostgresConnection, appliedBy: String, logger: Logger) async throws -> Report {
        try await connection.query("SELECT pg_advisory_lock($1)", [Self.advisoryLockKey])
        do {
            let report = try await migrateLocked(connection, appliedBy: appliedBy, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey])
            return report
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey])
            throw error
        }
    }

    private func migrateLocked(_ connection: PostgresConnection, appliedBy: String, logger: Logger) async throws -> Report {
        try await connection.execute("""
            CREATE SCHEMA IF NOT EXISTS orchestrator;
            CREATE TABLE IF NOT EXISTS orchestrator.schema_migrations (
                version     integer     PRIMARY KEY,
                name        text        NOT NULL,
                checksum    text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now(),
                applied_by  text        NOT NULL,
                duration_ms integer     NOT NULL
            );
            """)
        let applied = try await appliedChecksums(connection)
        var checksums: [Int: String] = [:]
        for file in files {
            checksums[file.version] = try await checksum(of: file, on: connection)
        }
        try verify(applied: applied, checksums: checksums)

        var report = Report(applied: [], alreadyApplied: applied.count)
        for file in files where applied[file.version] == nil {
            let started = ContinuousClock.now
            try await connection.transaction { tx in
                try await tx.execute(file.sql)
                let elapsed = ContinuousClock.now - started
                try await tx.query(
                    "INSERT INTO orchestrator.schema_migrations (version, name, checksum, applied_by, duration_ms) VALUES ($1, $2, $3, $4, $5)",
                    [file.version, file.name, checksums[file.version], appliedBy, Int(elapsed.seconds * 1000)]
                )
            }
            logger.info("applied migration", metadata: ["migration.name": "\(file.name)"])
            report.applied.append(file.name)
        }
        return report
    }

    /// Versions applied in the database that this build lacks, and applied files since edited, are
    /// both refused: either means the schema is not what this build's SQL expects.
    func verify(applied: [Int: (name: String, checksum: String)], checksums: [Int: String]) throws {
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let file = files.first(where: { $0.version == version }) else {
                throw MigrationError("the database has migration \(record.name), which this orchestrator build does not have; upgrade orchestrator")
            }
            guard checksums[version] == record.checksum else {
                throw MigrationError("migration \(file.name).sql was edited after it was applied (checksum differs); restore the original file and put changes in a new migration")
            }
        }
    }

    /// Versions in the database; empty when the database was never migrated.
    package func pending(_ connection: PostgresConnection) async throws -> [MigrationFile] {
        let exists = try await connection.query("SELECT to_regclass('orchestrator.schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode("present", as: Bool.self) == true else { return files }
        let applied = try await appliedChecksums(connection)
        return files.filter { applied[$0.version] == nil }
    }

    private func appliedChecksums(_ connection: PostgresConnection) async throws -> [Int: (name: String, checksum: String)] {
        let rows = try await connection.query("SELECT version, name, checksum FROM orchestrator.schema_migrations ORDER BY version")
        var result: [Int: (name: String, checksum: String)] = [:]
        for row in rows.rows {
            result[try row.decode("version")] = (try row.decode("name"), try row.decode("checksum"))
        }
        return result
    }

    /// SHA-256 computed by the server, so the binary needs no hashing library for it.
    private func checksum(of file: MigrationFile, on connection: PostgresConnection) async throws -> String {
        let row = try await connection.query("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') AS sum", [file.sql])
        return try row.single().decode("sum")  // a SELECT of one expression always returns one row
    }
}
