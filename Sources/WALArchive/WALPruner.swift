import Foundation

/// Removes archived WAL that no kept base backup needs: every segment, `.partial` and
/// `.backup` file positioned before the first segment the oldest kept backup starts from, on
/// every timeline. A later timeline never holds WAL from before the point it branched off, so
/// removing by position alone never takes a segment a kept backup's recovery passes through,
/// and what stays is one unbroken range from that segment on. History files are tiny and
/// always kept (recovery reads them to follow timelines). Blocking: run it on the executor.
package enum WALPruner {
    package struct Result: Sendable, Equatable {
        package var files: Int = 0
        package var bytes: Int64 = 0
        /// Up to a few of the removed names, oldest first, for the log and the job result.
        package var examples: [String] = []

        package init() {}
    }

    package static func remove(before firstNeeded: WALFileName, in repository: WALRepository, dryRun: Bool = false) throws -> Result {
        let cutoff = String(firstNeeded.name.utf8.dropFirst(8).prefix(16))!
        var result = Result()
        let fileManager = FileManager.default
        let timelines = (try? fileManager.contentsOfDirectory(atPath: repository.walDirectory)) ?? []
        for timeline in timelines.sorted() where timeline.utf8.count == 8 {
            let timelineDirectory = repository.walDirectory + "/" + timeline
            let logs = (try? fileManager.contentsOfDirectory(atPath: timelineDirectory)) ?? []
            for log in logs.sorted() where log.utf8.count == 16 {
                // A whole log directory before the cutoff's log holds only removable files.
                guard String(log.utf8.dropFirst(8))! <= String(cutoff.utf8.prefix(8))! else { continue }
                let logDirectory = timelineDirectory + "/" + log
                let names = try fileManager.contentsOfDirectory(atPath: logDirectory)
                var remaining = 0
                for stored in names.sorted() {
                    guard stored.hasSuffix(".zst"), !stored.hasPrefix("."),
                          let file = try? WALFileName(String(stored.dropLast(4))), file.kind != .history,
                          String(file.name.utf8.dropFirst(8).prefix(16))! < cutoff else {
                        remaining += 1
                        continue
                    }
                    let path = logDirectory + "/" + stored
                    var info = stat()
                    guard lstat(path, &info) == 0 else { continue }
                    if !dryRun {
                        guard unlink(path) == 0 else {
                            throw WALArchiveError(.io, "cannot remove \(path): \(String(cString: strerror(errno))); the worker needs write access to the WAL repository's directories (group write, mode 2770)")
                        }
                    }
                    result.files += 1
                    result.bytes += Int64(info.st_size)
                    if result.examples.count < 3 { result.examples.append(file.name) }
                }
                if remaining == 0, !dryRun { rmdir(logDirectory) }
            }
        }
        return result
    }
}
