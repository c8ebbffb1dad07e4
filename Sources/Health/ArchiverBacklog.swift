import Foundation

/// Whether a server's archiver is behind, from `pg_stat_archiver` and the current WAL position.
///
/// A segment can be archived only once it is finished, that is once the insert position has
/// left it; so the backlog is the finished segments after the last archived one. An idle server
/// that archived everything has none, however old `last_archived_time` is. Segments are
/// counted by position (log * segments per log + segment), which ignores the timeline: a
/// promoted server's first segment continues its parent's numbering.
package struct ArchiverBacklog: Sendable, Equatable {
    /// Finished segments not archived yet; nil when it cannot be told (nothing archived since
    /// the statistics were reset, or the last archived file is a timeline history).
    package let pendingSegments: Int64?
    /// How long the oldest pending segment has waited: its `.ready` file's age when the role
    /// may list `pg_wal/archive_status`, else the time since the last archived file (which
    /// overstates it for a segment that has just finished on a long-idle server). 0 when none wait.
    package let behindSeconds: Double?
    /// `ready_files` or `last_archived`: where `behindSeconds` comes from.
    package let source: String?

    /// - Parameters:
    ///   - lastArchived: `pg_stat_archiver.last_archived_wal`.
    ///   - failedFirst: `last_failed_wal` when the last attempt failed and nothing was archived
    ///     since the statistics were reset: the archiver goes in order, so it is the oldest pending one.
    ///   - currentPosition: `pg_current_wal_lsn()` as bytes.
    ///   - oldestReadySeconds: age of the oldest `.ready` file, when it could be read.
    package init(lastArchived: String?, lastArchivedSeconds: Double?, failedFirst: String? = nil, currentPosition: UInt64,
                 segmentSize: UInt64, oldestReadySeconds: Double?) {
        let current = segmentSize > 0 ? currentPosition / segmentSize : 0  // the segment being written: not finished
        let pending: Int64
        if segmentSize > 0, let archived = lastArchived.flatMap({ Self.position($0, segmentSize: segmentSize) }) {
            pending = current > archived ? Int64(current - archived - 1) : 0
        } else if segmentSize > 0, lastArchived == nil, let failed = failedFirst.flatMap({ Self.position($0, segmentSize: segmentSize) }) {
            pending = current > failed ? Int64(current - failed) : 0
        } else {
            pendingSegments = nil
            behindSeconds = nil
            source = nil
            return
        }
        pendingSegments = pending
        if pending == 0 {
            behindSeconds = 0
            source = nil
        } else if let oldestReadySeconds {
            behindSeconds = max(0, oldestReadySeconds)
            source = "ready_files"
        } else {
            behindSeconds = lastArchivedSeconds.map { max(0, $0) }
            source = lastArchivedSeconds == nil ? nil : "last_archived"
        }
    }

    /// The position of the segment a WAL file name names (segment, `.partial`, `.backup`);
    /// nil for history files and anything else.
    static func position(_ name: String, segmentSize: UInt64) -> UInt64? {
        let bytes = Array(name.utf8)
        guard bytes.count >= 24, !name.hasSuffix(".history"),
              let log = UInt64(String(decoding: bytes[8..<16], as: UTF8.self), radix: 16),
              let segment = UInt64(String(decoding: bytes[16..<24], as: UTF8.self), radix: 16) else { return nil }
        return log * ((UInt64(1) << 32) / segmentSize) + segment
    }
}
