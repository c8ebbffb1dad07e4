import Foundation
import WALArchive

/// When the newest WAL segment reached the repository: the archive covers every moment up to
/// about then. Lists directory entries only. Blocking: run it on the executor.
enum WALRepositoryTime {
    static func newestSegmentTime(repository root: String) throws -> Date? {
        let repository = try WALRepository(root: root)
        var newest: Date?
        let fileManager = FileManager.default
        for timeline in (try? fileManager.contentsOfDirectory(atPath: repository.walDirectory)) ?? [] {
            let timelineDirectory = repository.walDirectory + "/" + timeline
            for log in (try? fileManager.contentsOfDirectory(atPath: timelineDirectory)) ?? [] where log.utf8.count == 16 {
                let logDirectory = timelineDirectory + "/" + log
                for name in (try? fileManager.contentsOfDirectory(atPath: logDirectory)) ?? [] where name.utf8.count == 28 && name.hasSuffix(".zst") {
                    var info = stat()
                    guard lstat(logDirectory + "/" + name, &info) == 0 else { continue }
                    let time = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
                    if newest.map({ time > $0 }) ?? true { newest = time }
                }
            }
        }
        return newest
    }
}
