import Foundation
import Support

/// Reads a dump end to end through `pg_restore --data-only --file=-` and counts each table's
/// rows from its COPY data, streaming (constant memory, the dump is never held). This is both
/// the proof that the dump reads to its end (a listing alone passes a truncated dump) and the
/// source of the manifest's row counts, so the live server never runs a `count(*)` for a backup.
struct DumpRowCounter: Sendable {
    let pgRestore: String
    let priority: ProcessPriority

    /// Rows per table of the dump at `path` (`relative` names it in errors).
    func count(dump path: String, named relative: String) async throws -> [CopyRowCounter.Table: Int64] {
        let tables: [(table: CopyRowCounter.Table, rows: Int64)]
        do {
            tables = try await ChildProcess.run(pgRestore, ["--data-only", "--file=-", path], priority: priority) { output in
                var counter = CopyRowCounter()
                try output.forEachChunk { try counter.consume($0) }
                return try counter.finish().map { ($0.table, $0.rows) }
            }
        } catch {
            throw BackupError("dump \(relative) cannot be read end to end: \(error)")
        }
        return Dictionary(tables.map { ($0.table, $0.rows) }, uniquingKeysWith: { first, _ in first })
    }

    /// Checks a recount against the manifest's counts: every table the dump counted must be
    /// listed with the same rows, and every listed table counted from the dump must be in it.
    static func compare(_ counted: [CopyRowCounter.Table: Int64], with listed: [BackupManifest.TableCount], dump relative: String) throws {
        var fromDump: Set<CopyRowCounter.Table> = []
        var onServer: Set<CopyRowCounter.Table> = []
        for entry in listed {
            let key = CopyRowCounter.Table(schema: entry.schema, table: entry.table)
            if entry.countedOnServer == true {
                onServer.insert(key)
                continue
            }
            fromDump.insert(key)
            guard let rows = counted[key] else {
                throw BackupError("dump \(relative) has no data for table \(key), which the manifest lists with \(entry.rows) rows")
            }
            guard rows == entry.rows else {
                throw BackupError("dump \(relative): table \(key) has \(rows) rows, the manifest says \(entry.rows) (the dump changed after the backup)")
            }
        }
        if let extra = counted.keys.filter({ !fromDump.contains($0) && !onServer.contains($0) }).min(by: { "\($0)" < "\($1)" }) {
            throw BackupError("dump \(relative) holds data for table \(extra), which the manifest does not list")
        }
    }
}
