import Foundation

/// A small file that tells people and health sampling what a process last saw (the stream
/// mover's error, the background pusher's state). Replaced whole (temporary name, rename) so a
/// reader never sees half of it, but not flushed: losing it in a crash loses only a report,
/// and the process writes it again on its next round.
enum AdvisoryFile {
    /// Writes `text` to `path`; false (and nothing left behind) when it cannot.
    @discardableResult
    static func write(_ text: String, to path: String) -> Bool {
        let temporary = DurableFiles.parent(of: path) + "/." + DurableFiles.lastComponent(of: path) + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { return false }
        var written = true
        do throws(WALArchiveError) {
            try DurableFiles.write(descriptor, Array(text.utf8), temporary)
        } catch {
            written = false
        }
        close(descriptor)
        guard written, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        return true
    }

    /// The file's modification time, if it exists.
    static func modified(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }
}
