import Foundation
import PostgresClient

/// A keyset walk through the rows a retention policy deletes: each batch starts where the last
/// one ended, so no batch rescans the rows (or the dead index entries) earlier batches went
/// through. A batch is two autocommit statements: a read of its upper bound (the `size`-th row
/// from the lower bound, an index-only read that locks nothing), then one DELETE of the range
/// between the bounds, the batch's whole transaction. (One statement doing both needs
/// `RETURNING` to count its rows, which measured slower per row than the extra round trip.)
///
/// Two orders, chosen from the catalog:
/// - `timestamp`: a btree index starts with the timestamp column; the walk follows it from the
///   oldest row up to the cutoff and touches only eligible rows, however the key is ordered.
///   More than `size` rows with one timestamp (say a `date` column) are deleted by key in
///   batches of `size` before the walk moves past that value.
/// - `key`: no such index; the walk follows the primary key through the whole table and deletes
///   the eligible rows of each key range.
///
/// Bounds travel as PostgreSQL's own text of the column (never through a Swift type), so the
/// comparison is exact. The DELETE re-checks its range and conditions, so a row updated
/// concurrently is deleted in its new version if it still qualifies. Rows that become eligible
/// behind the walk during the run (an insert or update that sets an old timestamp) are left for
/// the next run, as rows that become eligible after the cutoff was fixed are.
struct DeleteWalk: Sendable {
    enum Order: Sendable, Equatable {
        case timestamp(index: String)
        case key
    }

    struct Batch: Sendable {
        /// Rows the batch's range covered (what the batch size counts).
        var covered: Int
        var deleted: Int
        /// The companion's count (0 without one).
        var companionRows = 0
        /// Time of the DELETE statement, i.e. of the batch's transaction.
        var milliseconds: Double
    }

    let order: Order
    private let table: String
    private let column: String
    private let key: String
    private let filter: String
    private let cutoff: String
    private let companion: DeleteCompanion?
    private var lower: String?
    private var lowerInclusive = true
    private var started = false
    /// A timestamp shared by more rows than one batch holds; deleted by key until none is left.
    private var tie: String?
    private(set) var finished = false

    /// `table`, `column`, `key` are quoted identifiers (`key` may be `ctid` for the timestamp
    /// order, which uses it only to split ties); `condition` is the policy's trusted SQL.
    init(order: Order, table: String, column: String, key: String, condition: String?, cutoff: String, companion: DeleteCompanion? = nil) {
        self.companion = companion
        self.order = order
        self.table = table
        self.column = column
        self.key = key
        self.filter = condition.map { " AND (\($0))" } ?? ""
        self.cutoff = cutoff
    }

    /// Deletes the next batch of about `size` rows; nil when no batch ran (the walk only moved).
    mutating func next(size: Int, on connection: PostgresConnection) async throws -> Batch? {
        precondition(!finished, "the walk is finished")
        switch order {
        case .timestamp: return try await nextByTimestamp(size: size, on: connection)
        case .key: return try await nextByKey(size: size, on: connection)
        }
    }

    private mutating func nextByTimestamp(size: Int, on connection: PostgresConnection) async throws -> Batch? {
        if !started {
            started = true
            lower = try await connection.query(
                "SELECT min(\(column))::text AS v FROM \(table) WHERE \(column) < $1", [cutoff]
            ).first?.decodeIfPresent("v")
        }
        guard let from = lower else { finished = true; return nil }
        if let value = tie {
            let batch = try await timed(
                """
                DELETE FROM \(table) WHERE \(column) = $1\(filter) AND \(key) = ANY (ARRAY(
                    SELECT \(key) FROM \(table) WHERE \(column) = $1\(filter) LIMIT $2))
                """,
                [value, size], covered: size, on: connection
            )
            if batch.deleted == 0 {
                tie = nil
                lowerInclusive = false
            }
            return batch
        }
        let above = lowerInclusive ? ">=" : ">"
        // The bound is converted to text outside its subquery: only it, not every row the
        // OFFSET skips. Without a bound (fewer than `size` rows left) the range ends at the cutoff.
        let bound: String? = try await connection.query(
            """
            SELECT (SELECT \(column) FROM \(table) WHERE \(column) \(above) $1 AND \(column) < $2
                    ORDER BY \(column) OFFSET $3 LIMIT 1)::text AS v
            """,
            [from, cutoff, size]
        ).first?.decodeIfPresent("v")
        switch bound {
        case nil:
            finished = true
        case from?:
            // More than `size` rows share this timestamp: a range cannot split them.
            tie = from
            return try await nextByTimestamp(size: size, on: connection)
        case let bound?:
            lower = bound
            lowerInclusive = true
        }
        return try await timed(
            "DELETE FROM \(table) WHERE \(column) \(above) $1 AND \(column) < $2\(filter)",
            [from, bound ?? cutoff], covered: size, on: connection
        )
    }

    private mutating func nextByKey(size: Int, on connection: PostgresConnection) async throws -> Batch? {
        // Without a bound (fewer than `size` keys left) the range is open at the top.
        let bound: String? = try await connection.query(
            lower == nil
                ? "SELECT (SELECT \(key) FROM \(table) ORDER BY \(key) OFFSET $1 LIMIT 1)::text AS v"
                : "SELECT (SELECT \(key) FROM \(table) WHERE \(key) > $2 ORDER BY \(key) OFFSET $1 LIMIT 1)::text AS v",
            ([size - 1] as [any PostgresEncodable]) + (lower.map { [$0] } ?? [])
        ).first?.decodeIfPresent("v")
        var sql = "DELETE FROM \(table) WHERE \(column) < $1\(filter)"
        var values: [any PostgresEncodable] = [cutoff]
        if let lower {
            values.append(lower)
            sql += " AND \(key) > $\(values.count)"
        }
        if let bound {
            values.append(bound)
            sql += " AND \(key) <= $\(values.count)"
            lower = bound
        } else {
            finished = true
        }
        return try await timed(sql, values, covered: size, on: connection)
    }

    private func timed(
        _ sql: String, _ parameters: [any PostgresEncodable], covered: Int, on connection: PostgresConnection
    ) async throws -> Batch {
        let started = ContinuousClock.now
        guard let companion else {
            let deleted = try await connection.query(sql, parameters).affectedRows
            return Batch(covered: covered, deleted: deleted, milliseconds: (ContinuousClock.now - started).seconds * 1000)
        }
        let counts = try await connection.query(companion.statement(deleting: sql), parameters).single()  // a SELECT without FROM
        return Batch(
            covered: covered, deleted: try counts.decode("deleted"), companionRows: try counts.decode("companion"),
            milliseconds: (ContinuousClock.now - started).seconds * 1000
        )
    }
}
