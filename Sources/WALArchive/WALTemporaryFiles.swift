import Foundation

/// Names of files being written: `.NAME.zst.PID.tmp` beside their final name. The leading dot
/// and the suffix keep them from ever matching a stored name, so a push that died (full disk,
/// `kill -9`, power loss) leaves nothing `wal-get` could return. The next push of the same name
/// (PostgreSQL retries a failed one) removes those whose process is gone.
enum WALTemporaryFiles {
    static func name(for stored: String, pid: Int32) -> String {
        ".\(stored).\(pid).tmp"
    }

    /// Best effort: a leftover that cannot be removed costs only disk space.
    static func removeAbandoned(of stored: String, in directory: String) {
        guard let stream = opendir(directory) else { return }
        defer { closedir(stream) }
        let prefix = ".\(stored)."
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix(prefix), name.hasSuffix(".tmp"),
                  let pid = Int32(name.dropFirst(prefix.count).dropLast(4)), pid != getpid() else { continue }
            // ESRCH: no such process. A live one (even an unrelated process reusing the id) is left alone.
            if kill(pid, 0) != 0, errno == ESRCH { unlink(directory + "/" + name) }
        }
    }
}
