import Foundation

/// Where archived WAL lives in a repository. One directory per timeline, and inside it one per
/// log (the 16 hex digits of timeline and log, at most 256 segments of 16 MB each), so no
/// directory grows without bound and a timeline can be listed, copied or pruned on its own:
///
///     <repository>/wal/00000001/0000000100000000/000000010000000000000001.zst
///     <repository>/wal/00000001/0000000100000000/000000010000000000000002.00000028.backup.zst
///     <repository>/wal/00000001/0000000100000000/000000010000000000000003.partial.zst
///     <repository>/wal/00000002/00000002.history.zst
///
/// Every stored file is zstd with a `WALChecksumTrailer`. Names starting with "." are
/// temporary files being written and are never returned. Base backups will live beside `wal/`.
package struct WALRepository: Sendable, Equatable {
    package let root: String

    /// `root` must be an absolute path; it is not created here (a repository that vanished,
    /// e.g. an unmounted disk, must fail rather than be silently recreated).
    package init(root: String) throws(WALArchiveError) {
        self.root = try DurableFiles.absoluteDirectory(root, what: "repository")
    }

    package var walDirectory: String { root == "/" ? "/wal" : root + "/wal" }

    /// The directories from `wal/` down to the one holding `file`, outermost first.
    package func directories(for file: WALFileName) -> [String] {
        let timeline = walDirectory + "/" + file.timelineHex
        if file.kind == .history { return [walDirectory, timeline] }
        return [walDirectory, timeline, timeline + "/" + file.timelineAndLog]
    }

    package func directory(for file: WALFileName) -> String { directories(for: file).last! }

    package func storedName(for file: WALFileName) -> String { file.name + ".zst" }

    package func path(for file: WALFileName) -> String { directory(for: file) + "/" + storedName(for: file) }

    /// Fails unless the repository root is an existing directory.
    package func checkRoot() throws(WALArchiveError) {
        var info = stat()
        guard stat(root, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw WALArchiveError(.io, "repository \(root) cannot be reached (\(reason)): create it (owned by postgres, group of the orchestrator user, mode 2750) or mount it, and check --repository / wal.yaml")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw WALArchiveError(.io, "repository \(root) is not a directory")
        }
    }
}
