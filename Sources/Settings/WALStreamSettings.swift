import Foundation

/// `wal_stream:` in the main configuration: WAL taken over a replication connection by
/// `pg_receivewal`, which the worker supervises, for servers whose `archive_command` is not to
/// be changed. Segments go to `wal_archive.repository`, the one repository base backups,
/// restores and archive health read, so archiving and streaming can never disagree.
///
///     wal_stream:
///       database: trading        # a key of databases: (its role needs REPLICATION)
///       slot: orchestrator       # created when missing
///       spool: /var/lib/orchestrator/wal-stream
package struct WALStreamSettings: Sendable, Decodable, Equatable {
    /// The session advisory lock (on the orchestrator's database) held by the worker that
    /// streams; `status` names the session holding it.
    package static let lockKey: Int64 = 0x6F72_6368_7761_6C73  // "orchwals"
    /// The streaming worker's `application_name` on that lock's session, before its worker id.
    package static let lockHolderPrefix = "orchestrator wal stream "

    package var database: String
    package var slot: String
    /// Where pg_receivewal writes (the worker's user owns it); completed segments leave it for the repository.
    package var spool: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case database, slot, spool
    }

    package init(database: String, slot: String = "orchestrator", spool: String) {
        self.database = database
        self.slot = slot
        self.spool = spool
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        database = try c.decode(String.self, forKey: .database)
        slot = try c.decode(.slot, default: "orchestrator")
        spool = try c.decode(String.self, forKey: .spool)
    }

    /// Problems found without a server: the database must be configured, the slot name one
    /// PostgreSQL accepts (it reaches pg_receivewal's command line), the paths absolute and apart.
    func problems(databases: [String: TargetDatabase], repository: String?) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        if databases[database] == nil {
            problems.append(ConfigurationError(path: "wal_stream.database",
                "\(database.debugDescription) is not under databases: (configured: \(databases.keys.sorted().joined(separator: ", ")))"))
        }
        let slotBytes = Array(slot.utf8)
        if slotBytes.isEmpty || slotBytes.count > 63 || !slotBytes.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) {
            problems.append(ConfigurationError(path: "wal_stream.slot", "must be 1 to 63 lower-case letters, digits or _, got \(slot.debugDescription)"))
        }
        if !spool.hasPrefix("/") || spool.split(separator: "/").contains("..") {
            problems.append(ConfigurationError(path: "wal_stream.spool", "must be an absolute path without '..', got \(spool.debugDescription)"))
        }
        if let repository {
            if spool == repository {
                problems.append(ConfigurationError(path: "wal_stream.spool", "must not be the repository"))
            }
        } else {
            problems.append(ConfigurationError(path: "wal_stream", "streamed WAL goes to wal_archive.repository: add `wal_archive: {repository: DIR}`"))
        }
        return problems
    }
}
