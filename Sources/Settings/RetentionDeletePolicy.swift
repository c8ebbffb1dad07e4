/// `retention.NAME`: rows of one table older than `keep_days` by a timestamp column, deleted in
/// short keyset batches (each its own short transaction) by the `retention` kind.
package struct RetentionDeletePolicy: Sendable, Decodable, Equatable {
    /// A key of `databases:`.
    package var database: String
    /// `table` or `schema.table`; resolved against the catalog, always quoted.
    package var table: String
    /// A `timestamp`/`timestamptz`/`date` column.
    package var column: String
    package var keepDays: Int
    /// Rows in the first batch, kept small so a cold cache cannot make it long; later batches
    /// are sized from measured batch times (at most doubling each time) to stay under
    /// `target_batch_ms`, aiming at half of it.
    package var batchSize: Int
    /// The longest a batch's transaction should take (it holds row locks that long).
    package var targetBatchMs: Int
    /// Pause between batches (default none: each batch has released its locks before the next
    /// begins). Pauses cost throughput.
    package var sleepMs: Int
    /// Extra SQL condition (trusted: written by the operator in this file), e.g. `status = 'closed'`.
    package var condition: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, table, column, keepDays = "keep_days", batchSize = "batch_size"
        case targetBatchMs = "target_batch_ms", sleepMs = "sleep_ms", condition
    }

    package init(database: String, table: String, column: String, keepDays: Int, batchSize: Int = 1000,
                targetBatchMs: Int = 50, sleepMs: Int = 0, condition: String? = nil) {
        self.database = database
        self.table = table
        self.column = column
        self.keepDays = keepDays
        self.batchSize = batchSize
        self.targetBatchMs = targetBatchMs
        self.sleepMs = sleepMs
        self.condition = condition
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(String.self, forKey: .database)
        table = try c.decode(String.self, forKey: .table)
        column = try c.decode(String.self, forKey: .column)
        keepDays = try c.decode(Int.self, forKey: .keepDays)
        batchSize = try c.decode(.batchSize, default: 1000)
        targetBatchMs = try c.decode(.targetBatchMs, default: 50)
        sleepMs = try c.decode(.sleepMs, default: 0)
        condition = try c.decodeIfPresent(String.self, forKey: .condition)
    }
}
