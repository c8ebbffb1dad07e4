import Foundation
import PostgresClient
import Settings
import Support

/// The alert state machine in SQL. Every decision that must happen once — opening an episode,
/// escalating it, repeating it, resolving it — is one statement whose row lock or unique index
/// lets exactly one of several concurrent evaluators win; only the winner gets a notice to send.
package enum AlertEpisodes {
    /// Applies one evaluation at `now`: opens, updates and resolves episodes; returns the notices
    /// this caller won.
    package static func apply(
        _ evaluation: AlertEvaluation, now: Date, repeatMinutes: Int, on connection: PostgresConnection
    ) async throws -> [AlertNotice] {
        var notices: [AlertNotice] = []
        for condition in evaluation.conditions {
            if let notice = try await fire(condition, now: now, repeatSeconds: repeatMinutes * 60, on: connection) {
                notices.append(notice)
            }
        }
        let holding = Set(evaluation.conditions.map(\.key)).union(evaluation.undecided)
        for open in try await openEpisodes(in: evaluation.scope, on: connection) where !holding.contains(open.key) {
            let reason: String
            switch evaluation.scope {
            case .thresholds: reason = evaluation.cleared[open.key] ?? "no longer sampled, or no threshold applies any more"
            case .builtin: reason = "the condition cleared"
            }
            if let notice = try await resolve(id: open.id, now: now, reason: reason, on: connection) {
                notices.append(notice)
            }
        }
        return notices
    }

    /// Opens an episode, or updates the open one (escalation, repeat). Nil when nothing is owed
    /// to people by this caller.
    static func fire(_ condition: AlertCondition, now: Date, repeatSeconds: Int, on connection: PostgresConnection) async throws -> AlertNotice? {
        let details = JSONText(JSONValue.object(condition.details).jsonText)
        // An episode resolved between the two statements leaves no row to update: open anew.
        for _ in 0..<3 {
            let inserted = try await connection.query(
                """
                INSERT INTO orchestrator.alerts (rule, source, subject, host, severity, state, value, threshold, summary, details,
                                                 first_seen_at, fired_at, last_seen_at, last_notified_at, notifications)
                VALUES ($1, $2, $3, $4, $5, 'firing', $6, $7, $8, $9::jsonb, least($10::timestamptz, $11::timestamptz), $11, $11, $11, 1)
                ON CONFLICT (rule, subject, host) WHERE state = 'firing' DO NOTHING
                RETURNING \(columns("")), 'firing' AS event
                """,
                [condition.rule, condition.source.rawValue, condition.subject, condition.host, condition.severity.rawValue,
                 condition.value, condition.threshold, condition.summary, details, condition.firstSeenAt, now]
            )
            if let row = inserted.first { return try notice(row, now: now) }
            // The row lock taken in `old` makes a concurrent evaluator wait and then see this
            // update's result, so an escalation or repeat is claimed once.
            let updated = try await connection.query(
                """
                WITH old AS (
                    SELECT id,
                           CASE WHEN $4 = 'critical' AND severity = 'warning' THEN 'escalated'
                                WHEN $9::int > 0 AND coalesce(last_notified_at, fired_at) <= $8::timestamptz - make_interval(secs => $9::int)
                                     THEN 'repeat'
                           END AS event
                    FROM orchestrator.alerts
                    WHERE rule = $1 AND subject = $2 AND host = $3 AND state = 'firing'
                    FOR UPDATE
                )
                UPDATE orchestrator.alerts a
                SET severity = CASE WHEN old.event = 'escalated' THEN $4 ELSE a.severity END,
                    value = $5,
                    threshold = CASE WHEN old.event = 'escalated' OR a.severity = $4 THEN $6 ELSE a.threshold END,
                    summary = $7, details = $10::jsonb, last_seen_at = greatest(a.last_seen_at, $8::timestamptz),
                    last_notified_at = CASE WHEN old.event IS NULL THEN a.last_notified_at ELSE $8 END,
                    notifications = a.notifications + CASE WHEN old.event IS NULL THEN 0 ELSE 1 END
                FROM old
                WHERE a.id = old.id
                RETURNING \(columns("a.")), old.event
                """,
                [condition.rule, condition.subject, condition.host, condition.severity.rawValue, condition.value, condition.threshold,
                 condition.summary, now, repeatSeconds, details]
            )
            guard let row = updated.first else { continue }
            return row["event"] == nil ? nil : try notice(row, now: now)
        }
        return nil
    }

    /// Resolves one firing episode; nil when another evaluator resolved it first.
    static func resolve(id: Int64, now: Date, reason: String, on connection: PostgresConnection) async throws -> AlertNotice? {
        let row = try await connection.query(
            """
            UPDATE orchestrator.alerts
            SET state = 'resolved', resolved_at = greatest($2::timestamptz, fired_at), resolve_reason = $3,
                last_notified_at = $2, notifications = notifications + 1
            WHERE id = $1 AND state = 'firing'
            RETURNING \(columns("")), 'resolved' AS event
            """,
            [id, now, reason]
        ).first
        return try row.map { try notice($0, now: now) }
    }

    struct OpenEpisode: Sendable {
        let id: Int64
        let key: AlertCondition.Key
    }

    static func openEpisodes(in scope: AlertEvaluation.Scope, on connection: PostgresConnection) async throws -> [OpenEpisode] {
        let result: QueryResult
        switch scope {
        case .thresholds(let host):
            result = try await connection.query(
                "SELECT id, rule, subject, host FROM orchestrator.alerts WHERE state = 'firing' AND source = 'threshold' AND host = $1", [host]
            )
        case .builtin:
            result = try await connection.query(
                "SELECT id, rule, subject, host FROM orchestrator.alerts WHERE state = 'firing' AND source = 'builtin'"
            )
        }
        return try result.rows.map { row in
            OpenEpisode(id: try row.decode("id"), key: .init(rule: try row.decode("rule"), subject: try row.decode("subject"), host: try row.decode("host")))
        }
    }

    private static func columns(_ p: String) -> String {
        "\(p)id, \(p)rule, \(p)subject, \(p)host, \(p)severity, \(p)summary, \(p)value, \(p)threshold, \(p)details::text AS details, "
            + "\(p)fired_at, \(p)resolve_reason"
    }

    private static func notice(_ row: PostgresRow, now: Date) throws -> AlertNotice {
        let details = try row.decodeIfPresent("details", as: String.self).flatMap { try? JSONValue.parse($0) }
        var object: [String: JSONValue] = [:]
        if case .object(let values) = details { object = values }
        return AlertNotice(
            alertID: try row.decode("id"),
            event: AlertNotice.Event(rawValue: try row.decode("event")) ?? .firing,
            rule: try row.decode("rule"), subject: try row.decode("subject"), host: try row.decode("host"),
            severity: AlertSeverity(rawValue: try row.decode("severity")) ?? .warning,
            summary: try row.decode("summary"), value: try row.decodeIfPresent("value"), threshold: try row.decodeIfPresent("threshold"),
            details: object, firedAt: try row.decode("fired_at"), time: now, resolveReason: try row.decodeIfPresent("resolve_reason")
        )
    }
}
