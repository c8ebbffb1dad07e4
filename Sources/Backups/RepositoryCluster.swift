import WALArchive

/// Base backups and restores work only on the cluster whose WAL the repository holds
/// (`WALClusterIdentity`); another cluster's is refused as a request error naming both.
enum RepositoryCluster {
    static func require(_ systemIdentifier: Int64, repository root: String, what: String) throws {
        do {
            try WALClusterIdentity.check(UInt64(bitPattern: systemIdentifier), in: try WALRepository(root: root), what: what)
        } catch {
            throw BackupRequestError(error.message)
        }
    }
}
