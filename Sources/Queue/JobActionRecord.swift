import Foundation
import PostgresClient

/// A row of `orchestrator.web_actions`: a person changed (or tried to change) the queue through
/// the dashboard. Recorded in the transaction that made the change, so the change and its
/// record commit together.
package struct JobActionRecord: Sendable, Codable, Equatable {
    package enum Action: String, Sendable, Codable, CaseIterable {
        case retry, cancel
        case enqueueBackup = "enqueue_backup"
        case enqueueDrill = "enqueue_drill"
    }

    package let id: Int64
    package let at: Date
    /// Who: the way the request was authenticated (`web (bearer)`, `web (session)`) and from where.
    package let actor: String
    package let action: Action
    package let jobID: Int64?
    /// The profile of an enqueue.
    package let target: String?
    package let outcome: String
    package let succeeded: Bool

    enum CodingKeys: String, CodingKey { case id, at, actor, action, jobID = "job_id", target, outcome, succeeded }

    @discardableResult
    package static func record(
        actor: String, action: Action, jobID: Int64?, target: String? = nil, outcome: String, succeeded: Bool, on connection: PostgresConnection
    ) async throws -> JobActionRecord {
        let rows = try await connection.query(
            """
            INSERT INTO orchestrator.web_actions (actor, action, job_id, target, outcome, succeeded)
            VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING \(columns)
            """,
            [actor, action.rawValue, jobID, target, outcome, succeeded]
        )
        guard let row = rows.first else { throw PostgresError(code: .unexpectedRowCount, message: "INSERT ... RETURNING returned no row") }
        return try JobActionRecord(row)
    }

    /// The actions on one job, newest first.
    package static func load(jobID: Int64, limit: Int = 50, on connection: PostgresConnection) async throws -> [JobActionRecord] {
        let rows = try await connection.query(
            "SELECT \(columns) FROM orchestrator.web_actions WHERE job_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
            [jobID, limit]
        )
        return try rows.rows.map { try JobActionRecord($0) }
    }

    static let columns = "id, at, actor, action, job_id, target, outcome, succeeded"

    init(_ row: PostgresRow) throws {
        id = try row.decode("id")
        at = try row.decode("at")
        actor = try row.decode("actor")
        action = try row.decode("action")
        jobID = try row.decodeIfPresent("job_id")
        target = try row.decodeIfPresent("target")
        outcome = try row.decode("outcome")
        succeeded = try row.decode("succeeded")
    }
}

extension JobActionRecord.Action: PostgresDecodable {
    package init(postgresText: String) throws(PostgresError) {
        guard let action = Self(rawValue: postgresText) else {
            throw PostgresError(code: .decoding, message: "cannot decode \(postgresText.prefix(64).debugDescription) as a dashboard action")
        }
        self = action
    }
}
