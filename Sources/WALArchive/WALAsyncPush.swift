import Foundation

/// `wal-push --async`: PostgreSQL's call for one file, answered from the spool. Blocking.
///
/// If the background pusher already stored the file (an `.ok` for this very file: same inode,
/// size and modification time), succeed at once. The `.ok` stays until PostgreSQL has marked
/// the file done (the pusher then drops it): removing it here would let the pusher, between
/// this exit and PostgreSQL's rename of `.ready`, see a ready file without status and verify
/// the stored copy again for nothing. Otherwise make sure a pusher
/// runs and wait for its status: `.ok` succeeds, `.error` fails with its message (and stays,
/// so the pusher does not retry in a loop; the next call removes it, which asks for the
/// retry). Success is never answered for a file that is not durably in the repository: an
/// `.ok` is written only after the push's last flush.
///
/// A file PostgreSQL did not mark ready (`archive_status/NAME.ready` missing: a manual call, or
/// a path outside pg_wal) is pushed here, synchronously, since no pusher would ever pick it up.
package struct WALAsyncPush: Sendable {
    package enum Outcome: Sendable, Equatable {
        /// The pusher had stored it (before or during this call).
        case acknowledged(WALFileIdentity)
        /// Pushed by this call itself.
        case pushedDirectly(WALPush.Outcome)
    }

    package let push: WALPush
    package let spool: WALSpool
    /// Where the pusher comes from (this binary) and what it is told.
    package let executable: String
    package let pusherArguments: @Sendable (_ walDirectory: String) -> [String]
    package var timeout: Duration = .seconds(60)
    /// How often a waiting call looks for its status (a `stat` or two each time).
    package var pollInterval: Duration = .milliseconds(5)

    package init(push: WALPush, spool: WALSpool, executable: String, pusherArguments: @escaping @Sendable (String) -> [String]) {
        self.push = push
        self.spool = spool
        self.executable = executable
        self.pusherArguments = pusherArguments
    }

    package func push(path: String) throws(WALArchiveError) -> Outcome {
        let file = try WALFileName(DurableFiles.lastComponent(of: path))
        guard !path.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw WALArchiveError(.refused, "\(WALFileName.shown(path)) contains \"..\"; archive_command must pass %p as PostgreSQL gives it")
        }
        try spool.prepare()
        if let identity = consumeAcknowledgement(file, path: path) { return .acknowledged(identity) }

        let walDirectory = Self.absolute(DurableFiles.parent(of: path))
        guard access(walDirectory + "/archive_status/" + file.name + ".ready", F_OK) == 0 else {
            return .pushedDirectly(try push.push(path: path))
        }
        // An `.error` left by an earlier call: this call is PostgreSQL's retry.
        if case .error = spool.status(of: file) { spool.remove(file) }

        let deadline = ContinuousClock.now + timeout
        var nextLockCheck = ContinuousClock.now
        while true {
            switch spool.status(of: file) {
            case .ok?:
                if let identity = consumeAcknowledgement(file, path: path) { return .acknowledged(identity) }
            case .error(let message)?:
                throw WALArchiveError(.io, message)
            case nil:
                break
            }
            let now = ContinuousClock.now
            if now >= deadline {
                throw WALArchiveError(.io, "the background pusher did not store \(file) within \(timeout) (see \(spool.logPath)); PostgreSQL will retry")
            }
            // Checked again while waiting: a pusher that went idle or was killed meanwhile is replaced.
            if now >= nextLockCheck {
                _ = try WALPusherLauncher.startIfIdle(spool: spool, executable: executable, arguments: pusherArguments(walDirectory))
                nextLockCheck = now + .milliseconds(100)
            }
            WALBackgroundPusher.sleep(pollInterval)
        }
    }

    /// The `.ok` of the file at `path`; one that belongs to another file under the same name is
    /// removed, and the file is pushed again.
    private func consumeAcknowledgement(_ file: WALFileName, path: String) -> WALFileIdentity? {
        guard case .ok(let recorded)? = spool.status(of: file) else { return nil }
        guard let current = WALFileIdentity.of(path), current.sameFile(as: recorded) else {
            spool.remove(file)
            return nil
        }
        return recorded
    }

    static func absolute(_ directory: String) -> String {
        if directory.hasPrefix("/") { return directory }
        let current = FileManager.default.currentDirectoryPath
        return directory == "." ? current : current + "/" + directory
    }
}
