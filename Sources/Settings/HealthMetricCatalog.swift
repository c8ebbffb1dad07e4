/// Every metric name the health samplers record (README "Health"). Threshold rules may only
/// name these, so a typo (`cpu.usage`) is a configuration error instead of a rule that never
/// fires. A test keeps this list and the samplers in step.
package enum HealthMetricCatalog {
    package static let names: Set<String> = [
        "cpu.usage_percent", "cpu.iowait_percent", "cpu.steal_percent", "cpu.cores",
        "load.1m", "load.5m", "load.15m", "load.per_core",
        "memory.used_percent", "memory.total_bytes", "memory.available_bytes", "swap.used_percent",
        "temperature.celsius", "uptime.seconds",
        "disk.used_percent", "disk.used_bytes", "disk.free_bytes", "disk.total_bytes", "disk.inodes_used_percent",
        "pg.up", "pg.size_bytes", "pg.connections", "pg.cache_hit_percent", "pg.xact_total", "pg.tps", "pg.deadlocks_total",
        "pg.xid_age", "pg.xid_wraparound_percent", "pg.oldest_table_xid_age", "pg.longest_transaction_seconds",
        "pg.longest_query_seconds", "pg.idle_in_transaction", "pg.idle_in_transaction_longest_seconds", "pg.locks_waiting",
        "pg.sessions_hidden", "pg.sample_ms",
        "pg.table.dead_tuples", "pg.table.dead_percent", "pg.table.size_bytes", "pg.table.vacuum_age_seconds",
        "pg.connections_total", "pg.max_connections", "pg.connections_used_percent", "pg.in_recovery",
        "pg.replay_delay_seconds", "pg.replicas", "pg.replication_lag_bytes", "pg.replication_lag_seconds",
        "pg.slot_active", "pg.slot_retained_bytes",
        "pg.archive_failed_total", "pg.archive_failing", "pg.archive_last_archived_seconds", "pg.archive_last_failed_seconds",
        "pg.archive_pending_segments", "pg.archive_behind_seconds",
        "wal.timelines", "wal.segments", "wal.bytes", "wal.gaps", "wal.missing_segments", "wal.newest_age_seconds",
        "systemd.active", "tcp.up", "tcp.connect_ms", "http.up", "http.status", "http.response_ms", "http.cert_days_left", "check.value",
    ]
}
