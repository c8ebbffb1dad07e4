import Foundation
import PostgresClient
import Queue
import Settings
import Support

/// Per table, what the maintenance kinds did to it, newest first, read from the results their
/// runs stored in `job_runs`: `vacuum`/`analyze` (`tables[]`: dead tuples and size before and
/// after), `retention` (`policies[]`: rows deleted) and `reindex` (`indexes[]`: index size
/// before and after). `/api/maintenance` returns it as JSON.
package struct MaintenanceHistory: Sendable, Encodable {
    package struct Event: Sendable, Encodable, Equatable {
        package let jobID: Int64
        package let kind: String
        /// The VACUUM/ANALYZE command, or the retention policy.
        package let operation: String
        /// The run's status; a retention policy's own status when the job ran several.
        package let status: String
        package let finishedAt: Date
        package let seconds: Double?
        package let deadTuplesBefore: Int64?
        package let deadTuplesAfter: Int64?
        package let bytesBefore: Int64?
        package let bytesAfter: Int64?
        package let rowsDeleted: Int64?
        package let index: String?
        package let indexBytesBefore: Int64?
        package let indexBytesAfter: Int64?

        enum CodingKeys: String, CodingKey {
            case jobID = "job_id", kind, operation, status, finishedAt = "finished_at", seconds
            case deadTuplesBefore = "dead_tuples_before", deadTuplesAfter = "dead_tuples_after"
            case bytesBefore = "bytes_before", bytesAfter = "bytes_after", rowsDeleted = "rows_deleted"
            case index, indexBytesBefore = "index_bytes_before", indexBytesAfter = "index_bytes_after"
        }
    }

    package struct Table: Sendable, Encodable {
        /// The `databases:` key the job named (a retention policy's database).
        package let database: String
        /// `schema.table`.
        package let table: String
        /// Newest first, at most the page's limit.
        package let events: [Event]
    }

    package static let kinds = ["vacuum", "analyze", "retention", "reindex"]

    package let generatedAt: Date
    /// Runs read per kind: the newest jobs of each kind, at most this many.
    package let jobsPerKind: Int
    /// Sorted by database and table.
    package let tables: [Table]

    enum CodingKeys: String, CodingKey { case generatedAt = "generated_at", jobsPerKind = "jobs_per_kind", tables }

    static func load(configuration: Configuration, limit: Int, on connection: PostgresConnection, now: Date = Date()) async throws -> MaintenanceHistory {
        let runs = try await JobQueue.recentResults(kinds: kinds, jobsPerKind: limit, on: connection)
        var byTable: [TableKey: [Event]] = [:]
        for run in runs {
            for (key, event) in events(run, configuration: configuration) { byTable[key, default: []].append(event) }
        }
        let tables = byTable.keys.sorted { ($0.database, $0.table) < ($1.database, $1.table) }.map { key in
            Table(database: key.database, table: key.table, events: Array(byTable[key]!.sorted { $0.finishedAt > $1.finishedAt }.prefix(limit)))
        }
        return MaintenanceHistory(generatedAt: now, jobsPerKind: limit, tables: tables)
    }

    struct TableKey: Hashable {
        let database: String
        let table: String
    }

    /// The entries of one run's result, each with the table it is about. Keys a result does not
    /// carry stay nil (runs stored before a key was added).
    static func events(_ kindRun: JobQueue.KindRun, configuration: Configuration) -> [(TableKey, Event)] {
        let run = kindRun.run
        guard case .object(let result)? = run.result else { return [] }
        let finished = run.finishedAt ?? run.startedAt
        func event(_ entry: [String: JSONValue], operation: String, status: String? = nil, rows: Int64? = nil, index: String? = nil) -> Event {
            Event(jobID: run.jobID, kind: kindRun.kind, operation: operation, status: status ?? run.status.rawValue, finishedAt: finished,
                  seconds: entry["seconds"]?.doubleValue ?? entry["delete_ms"]?.doubleValue.map { $0 / 1000 },
                  deadTuplesBefore: entry["dead_tuples_before"]?.intValue, deadTuplesAfter: entry["dead_tuples_after"]?.intValue,
                  bytesBefore: index == nil ? entry["bytes_before"]?.intValue : nil, bytesAfter: index == nil ? entry["bytes_after"]?.intValue : nil,
                  rowsDeleted: rows, index: index,
                  indexBytesBefore: index == nil ? nil : entry["bytes_before"]?.intValue, indexBytesAfter: index == nil ? nil : entry["bytes_after"]?.intValue)
        }
        let database = kindRun.target ?? ""
        switch kindRun.kind {
        case "vacuum", "analyze":
            let command = result["command"]?.stringValue ?? kindRun.kind.uppercased()
            return objects(result["tables"]).compactMap { entry in
                guard let table = entry["table"]?.stringValue else { return nil }
                return (TableKey(database: database, table: table), event(entry, operation: command))
            }
        case "retention":
            return objects(result["policies"]).compactMap { entry in
                guard let policy = entry["policy"]?.stringValue, let table = entry["table"]?.stringValue else { return nil }
                let database = entry["database"]?.stringValue ?? configuration.retention[policy]?.database ?? ""
                let operation = result["dry_run"]?.boolValue == true ? "\(policy) (dry run)" : policy
                return (TableKey(database: database, table: qualified(table)),
                        event(entry, operation: operation, status: entry["status"]?.stringValue, rows: entry["rows_deleted"]?.intValue))
            }
        case "reindex":
            return objects(result["indexes"]).compactMap { entry in
                guard let index = entry["index"]?.stringValue else { return nil }
                // Runs from before the table was recorded: the index stands in for its table.
                let table = entry["table"]?.stringValue ?? index
                return (TableKey(database: database, table: table), event(entry, operation: "REINDEX CONCURRENTLY", index: index))
            }
        default:
            return []
        }
    }

    static func objects(_ value: JSONValue?) -> [[String: JSONValue]] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            guard case .object(let object) = item else { return nil }
            return object
        }
    }

    /// A policy names `table` or `schema.table`; the vacuum and reindex results always say
    /// `schema.table`, so an unqualified name is taken as `public`'s, where the policy's table
    /// resolves on a default search path.
    static func qualified(_ table: String) -> String {
        table.contains(".") ? table : "public.\(table)"
    }
}
