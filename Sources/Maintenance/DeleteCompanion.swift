/// Work done in the same statement (so the same transaction) as each batch's DELETE, on the
/// rows that batch deletes: for example rolling job runs up into daily counts right as they go.
///
/// The batch becomes `WITH gone AS (DELETE ... RETURNING *), <ctes> SELECT count(*) FROM gone,
/// <counted>`: `ctes` may read `gone` (the deleted rows) and, because every part of a statement
/// sees the same snapshot, the rows those cascade to. A row is deleted once, so it is rolled up
/// once, whoever runs the deletes and however often.
package struct DeleteCompanion: Sendable {
    /// One or more CTEs, comma-separated, without a leading `WITH` or a trailing comma.
    let ctes: String
    /// An SQL expression over the CTEs giving a second count (e.g. the cascaded rows).
    let counted: String

    package init(ctes: String, counted: String) {
        self.ctes = ctes
        self.counted = counted
    }

    func statement(deleting delete: String) -> String {
        """
        WITH gone AS (\(delete) RETURNING *), \(ctes)
        SELECT (SELECT count(*) FROM gone)::int8 AS deleted, (\(counted))::int8 AS companion
        """
    }
}
