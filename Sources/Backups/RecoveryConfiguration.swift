import Foundation

/// Turns an extracted base backup into a data directory that recovers from the WAL archive:
/// `recovery.signal`, and a marked block in `postgresql.auto.conf` (which wins over
/// `postgresql.conf`) with the restore command, the target, and settings that keep the copy
/// away from production: its own port and socket, no TCP listener, archiving off (a restored
/// copy must never archive into the production repository), and a trust-on-local-socket
/// `pg_hba` of its own (the socket directory is private to the server's user).
struct RecoveryConfiguration: Sendable {
    static let blockStart = "# --- orchestrator pitr restore: remove this block before this directory serves production ---"
    static let blockEnd = "# --- end of orchestrator pitr restore ---"
    static let hbaFile = "orchestrator_pitr_hba.conf"

    let dataDirectory: String
    let socketDirectory: String
    let port: Int
    let target: RecoveryTarget
    /// The `orchestrator` binary and the WAL repository `wal-get` reads from.
    let executable: String
    let repository: String

    func write() throws {
        let fileManager = FileManager.default
        for leftover in ["standby.signal", "postmaster.pid", "postmaster.opts"] {
            try? fileManager.removeItem(atPath: dataDirectory + "/" + leftover)
        }
        // Debian keeps postgresql.conf under /etc: a copied data directory has none.
        let mainConfig = dataDirectory + "/postgresql.conf"
        if !fileManager.fileExists(atPath: mainConfig) {
            try write("# Settings live in postgresql.auto.conf (restored copy).\n", to: mainConfig)
        }
        try write("# Restored copy: only local socket connections, in a directory only the server's user can enter.\nlocal all all trust\n",
                  to: dataDirectory + "/" + Self.hbaFile)
        let restoreCommand = [executable, "wal-get", "--repository", repository].map(Self.shellQuoted).joined(separator: " ") + " %f %p"
        var settings: [(String, String)] = [
            ("restore_command", restoreCommand),
            ("recovery_target_timeline", "latest"),
            ("recovery_target_action", "promote"),
            ("archive_mode", "off"),
            ("port", String(port)),
            ("listen_addresses", ""),
            ("unix_socket_directories", socketDirectory),
            ("hba_file", dataDirectory + "/" + Self.hbaFile),
            // No connections until recovery ends: the copy is queried only once promoted, and
            // the primary's max_connections and friends need not be matched.
            ("hot_standby", "off"),
            ("primary_conninfo", ""),
            ("primary_slot_name", ""),
        ]
        settings += target.settings
        let autoConfig = dataDirectory + "/postgresql.auto.conf"
        var text = (try? String(contentsOfFile: autoConfig, encoding: .utf8)) ?? ""
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        text += Self.blockStart + "\n"
        for (name, value) in settings { text += "\(name) = \(Self.configQuoted(value))\n" }
        text += Self.blockEnd + "\n"
        try? fileManager.removeItem(atPath: autoConfig)
        try write(text, to: autoConfig)
        try write("", to: dataDirectory + "/recovery.signal")
    }

    private func write(_ text: String, to path: String) throws {
        guard fileManager.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw BackupError("cannot write \(path)")
        }
    }

    private var fileManager: FileManager { .default }

    /// A PostgreSQL configuration string literal.
    static func configQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// One shell word, whatever it holds.
    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
