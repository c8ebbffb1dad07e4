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

/// How a physical backup stores the cluster: `tar` (default) as `pg_basebackup`'s compressed
/// data-directory tar plus the WAL tar; `plain` as an uncompressed copy of the data directory
/// (`data/`, with the WAL the copy needs in `data/pg_wal`) that `pg_verifybackup` reads as is
/// and a restore copies file by file. Plain takes about three times the space.
package enum BaseBackupFormat: String, Sendable, Codable, CaseIterable {
    case tar, plain
}
