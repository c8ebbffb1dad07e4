/// How a profile backs up: `logical` dumps databases and archives files (`backup` kind);
/// `physical` copies the whole cluster with `pg_basebackup` (`base-backup` kind), the start
/// of point-in-time recovery together with the WAL archive.
package enum BackupMethod: String, Sendable, Codable, CaseIterable {
    case logical, physical
}

/// When a physical backup's starting checkpoint happens: `spread` lets the server finish its
/// regular checkpoint pace (no I/O burst the application notices, may take minutes); `fast`
/// asks for an immediate one.
package enum CheckpointMode: String, Sendable, Codable, CaseIterable {
    case spread, fast
}
