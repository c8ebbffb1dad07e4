import Foundation

/// Why a restored server did not come up, read from its log: the cause an operator can act on
/// (a WAL segment missing from the archive, a target outside the archive) instead of pg_ctl's
/// "could not start server".
enum RecoveryFailure {
    static func explain(log: String, target: RecoveryTarget, underlying: any Error) -> BackupError {
        let lines = log.split(separator: "\n").map(String.init)
        let missing = lines.compactMap(missingSegment(in:)).last
        if log.contains("recovery ended before configured recovery target was reached") {
            let reached = lines.last(where: { $0.contains("redo done at") }).map { " (\(trimmed($0)))" } ?? ""
            if let missing {
                return BackupError("recovery stopped before \(target): WAL segment \(missing) is missing from the archive\(reached); the archive has a gap there (check `orchestrator wal status`), or the target lies beyond what was archived")
            }
            return BackupError("recovery ended before \(target) was reached\(reached): the archive holds no WAL up to the target")
        }
        if let fatal = lines.last(where: { $0.contains("FATAL:") || $0.contains("PANIC:") }) {
            let hint = missing.map { "; the last WAL file asked for and not found was \($0)" } ?? ""
            return BackupError("the restored server stopped: \(trimmed(fatal))\(hint)")
        }
        return BackupError("the restored server did not start: \(underlying)\n\(lines.suffix(15).joined(separator: "\n"))")
    }

    /// A segment name from wal-get's "NAME is not in the archive" line (history files and the
    /// look-ahead for a next timeline are normal misses and are skipped).
    private static func missingSegment(in line: String) -> String? {
        guard let range = line.range(of: " is not in the archive") else { return nil }
        let name = line[..<range.lowerBound].split(whereSeparator: { $0 == " " || $0 == ":" }).last.map(String.init) ?? ""
        return name.utf8.count == 24 ? name : nil
    }

    private static func trimmed(_ line: String) -> String {
        line.trimmingCharacters(in: .whitespaces)
    }
}
