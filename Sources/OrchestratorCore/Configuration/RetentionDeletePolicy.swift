/// `retention.NAME`: rows of one table older than `keep_days` by a timestamp column, deleted in
/// small primary-key batches (each its own short transaction) by the `retention` kind.
public struct RetentionDeletePolicy: Sendable, Decodable, Equatable {
    /// A key of `databases:`.
    public var database: String
    /// `table` or `schema.table`; resolved against the catalog, always quoted.
    public var table: String
    /// A `timestamp`/`timestamptz`/`date` column.
    public var column: String
    public var keepDays: Int
    /// Starting batch size; adapted to stay under `target_batch_ms`.
    public var batchSize: Int
    public var targetBatchMs: Int
    public var sleepMs: Int
    /// Extra SQL condition (trusted: written by the operator in this file), e.g. `status = 'closed'`.
    public var condition: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, table, column, keepDays = "keep_days", batchSize = "batch_size"
        case targetBatchMs = "target_batch_ms", sleepMs = "sleep_ms", condition
    }

    public init(database: String, table: String, column: String, keepDays: Int, batchSize: Int = 5000,
                targetBatchMs: Int = 50, sleepMs: Int = 20, condition: String? = nil) {
        self.database = database
        self.table = table
        self.column = column
        self.keepDays = keepDays
        self.batchSize = batchSize
        self.targetBatchMs = targetBatchMs
        self.sleepMs = sleepMs
        self.condition = condition
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(String.self, forKey: .database)
        table = try c.decode(String.self, forKey: .table)
        column = try c.decode(String.self, forKey: .column)
        keepDays = try c.decode(Int.self, forKey: .keepDays)
        batchSize = try c.decode(.batchSize, default: 5000)
        targetBatchMs = try c.decode(.targetBatchMs, default: 50)
        sleepMs = try c.decode(.sleepMs, default: 20)
        condition = try c.decodeIfPresent(String.self, forKey: .condition)
    }
}
