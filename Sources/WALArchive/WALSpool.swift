import Foundation

/// The directory asynchronous archiving shares between `wal-push --async` calls and the
/// background pusher (one per cluster):
///
///     <spool>/pusher.lock                       flock held by the running pusher (its pid inside)
///     <spool>/pusher.log                        the pusher's standard error
///     <spool>/pusher.state                      what it last saw: backlog, last error (WALPusherState)
///     <spool>/000000010000000000000007.ok       stored durably; the identity of the pushed file
///     <spool>/000000010000000000000008.error    not stored; the reason
///
/// A status file is written under a hidden temporary name, flushed, renamed and its directory
/// flushed, so an `.ok` that exists always means the segment was already durable in the
/// repository when it was written.
package struct WALSpool: Sendable {
    package enum Status: Sendable, Equatable {
        case ok(WALFileIdentity)
        case error(String)
    }

    package let directory: String

    /// `directory` must be absolute. It is created (0750) when missing, but not its parent.
    package init(directory: String) throws(WALArchiveError) {
        self.directory = try DurableFiles.absoluteDirectory(directory, what: "spool")
    }

    package var lockPath: String { directory + "/pusher.lock" }
    package var logPath: String { directory + "/pusher.log" }

    package func statusPath(_ file: WALFileName, ok: Bool) -> String {
        directory + "/" + file.name + (ok ? ".ok" : ".error")
    }

    /// Creates the spool if it is missing; fails with the fix when it cannot.
    package func prepare() throws(WALArchiveError) {
        var info = stat()
        if stat(directory, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw WALArchiveError(.io, "spool \(directory) is not a directory") }
            return
        }
        guard mkdir(directory, 0o750) == 0 || errno == EEXIST else {
            throw WALArchiveError(.io, "cannot create spool \(directory): \(DurableFiles.reason()); create it owned by the user PostgreSQL runs as (mode 0750) or set wal_archive.spool")
        }
    }

    /// The status of `file`, if the pusher has written one. An `.ok` whose content cannot be
    /// read back is taken as absent: the segment is pushed again, which is idempotent.
    package func status(of file: WALFileName) -> Status? {
        if let text = Self.readSmallFile(statusPath(file, ok: true)) {
            return WALFileIdentity(text).map(Status.ok)
        }
        if let text = Self.readSmallFile(statusPath(file, ok: false)) {
            return .error(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return nil
    }

    /// Whether the pusher stored `file` (it has an `.ok`).
    package func isStored(_ file: WALFileName) -> Bool {
        access(statusPath(file, ok: true), F_OK) == 0
    }

    package func hasStatus(_ file: WALFileName) -> Bool {
        access(statusPath(file, ok: true), F_OK) == 0 || access(statusPath(file, ok: false), F_OK) == 0
    }

    /// Records `status` durably, replacing any earlier one of the other kind.
    package func record(_ status: Status, for file: WALFileName) throws(WALArchiveError) {
        let (path, other, text): (String, String, String)
        switch status {
        case .ok(let identity): (path, other, text) = (statusPath(file, ok: true), statusPath(file, ok: false), identity.text)
        case .error(let message): (path, other, text) = (statusPath(file, ok: false), statusPath(file, ok: true), message + "\n")
        }
        let temporary = directory + "/." + DurableFiles.lastComponent(of: path) + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw WALArchiveError(.io, "cannot create \(temporary): \(DurableFiles.reason())") }
        do throws(WALArchiveError) {
            defer { close(descriptor) }
            try DurableFiles.write(descriptor, Array(text.utf8), temporary)
            try DurableFiles.sync(descriptor, temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = DurableFiles.reason()
            unlink(temporary)
            throw WALArchiveError(.io, "cannot move \(temporary) to \(path): \(reason)")
        }
        unlink(other)
        try DurableFiles.syncDirectory(directory)
    }

    /// Removes the status of `file` (an `.ok` no longer needed or not trusted, an `.error`
    /// about to be retried). Not flushed: an `.ok` that comes back after a crash is still true,
    /// and an `.error` that comes back is retried by the next call.
    package func remove(_ file: WALFileName) {
        unlink(statusPath(file, ok: true))
        unlink(statusPath(file, ok: false))
    }

    /// Names that have a status file (`.ok` or `.error`).
    package func namesWithStatus() -> [String] {
        DirectoryNames.list(directory).compactMap { name in
            guard !name.hasPrefix(".") else { return nil }
            if name.hasSuffix(".ok") { return String(name.dropLast(3)) }
            if name.hasSuffix(".error") { return String(name.dropLast(6)) }
            return nil
        }
    }

    static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard let bytes = try? DurableFiles.read(descriptor, count: 64 << 10, at: 0, path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
