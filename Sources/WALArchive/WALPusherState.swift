import Foundation

/// What the background pusher last saw, left in `<spool>/pusher.state` for health sampling and
/// `wal status`: they run as the orchestrator's user, who cannot list the server's
/// `pg_wal/archive_status` (the pusher runs as PostgreSQL's user and reads it every round).
///
/// `pending` is the segments PostgreSQL marked ready that are not stored yet (no `.ok`):
/// `wal-push --async` answers PostgreSQL only once a segment is stored, so these are the
/// archive's backlog as the pusher sees it. Written when it changes, never per idle round,
/// and with 0 when the pusher goes idle; one left by a pusher that was killed keeps its
/// numbers (and `updatedAt`) until the next `wal-push` call starts another.
package struct WALPusherState: Sendable, Equatable, Codable {
    package var pid: Int32
    package var updatedAt: Date
    package var pending: Int
    /// The oldest pending segment and when PostgreSQL marked it ready (its `.ready` file's time).
    package var oldestPending: String?
    package var oldestPendingSince: Date?
    /// The last failure this pusher met (file and cause), kept after later successes so a
    /// flapping push is visible; the spool's `.error` files say what fails now.
    package var lastError: String?
    package var lastErrorAt: Date?

    package static let fileName = "pusher.state"

    enum CodingKeys: String, CodingKey {
        case pid, updatedAt = "updated_at", pending, oldestPending = "oldest_pending", oldestPendingSince = "oldest_pending_since"
        case lastError = "last_error", lastErrorAt = "last_error_at"
    }

    package init(pid: Int32 = getpid(), updatedAt: Date = Date(), pending: Int = 0, oldestPending: String? = nil, oldestPendingSince: Date? = nil,
                 lastError: String? = nil, lastErrorAt: Date? = nil) {
        self.pid = pid
        self.updatedAt = updatedAt
        self.pending = pending
        self.oldestPending = oldestPending
        self.oldestPendingSince = oldestPendingSince
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }

    /// Whether two states say the same (the time of writing aside).
    func sameReport(as other: WALPusherState) -> Bool {
        pending == other.pending && oldestPending == other.oldestPending && lastError == other.lastError && lastErrorAt == other.lastErrorAt
    }

    package func write(in spool: WALSpool) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        guard let data = try? encoder.encode(self) else { return }
        AdvisoryFile.write(String(decoding: data, as: UTF8.self) + "\n", to: spool.directory + "/" + Self.fileName)
    }

    /// The state the last pusher left; nil when none ever ran (or the file is unreadable).
    package static func read(in spool: WALSpool) -> WALPusherState? {
        guard let text = WALSpool.readSmallFile(spool.directory + "/" + fileName) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(WALPusherState.self, from: Data(text.utf8))
    }
}
