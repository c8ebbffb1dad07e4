import Archiving
import Foundation

/// What a repository's `wal/` holds, per timeline, from directory listings and `fstatat`
/// alone: first and last segment, count, bytes, newest file, and every hole between first and
/// last. One stored trailer (its last 56 bytes) gives the segment size, which says how many
/// segments a log holds; nothing else is read, so thousands of segments take milliseconds.
///
/// `.partial` and `.backup` files count in bytes and times but never close or open a gap:
/// a partial is the old timeline's tail at a promotion, a backup label names a segment that
/// is archived on its own. Names starting with "." are pushes under way; other names are not
/// ours and are only counted (`strays`). Blocking; run it off the cooperative pool.
package struct WALRepositoryScan: Sendable, Equatable {
    /// Missing segments `firstMissing...lastMissing` right after `after`, on one timeline.
    package struct Gap: Sendable, Equatable, Encodable {
        package let after: String
        package let firstMissing: String
        package let lastMissing: String
        package let missing: Int64

        enum CodingKeys: String, CodingKey {
            case after, firstMissing = "first_missing", lastMissing = "last_missing", missing
        }

        /// "000000010000000000000004" or "…04 to …09 (6 segments)".
        package var missingText: String {
            missing == 1 ? firstMissing : "\(firstMissing) to \(lastMissing) (\(missing) segments)"
        }
    }

    package struct Timeline: Sendable, Equatable, Encodable {
        package let timeline: UInt32
        /// The 8 hex digits of the directory name.
        package let name: String
        package var firstSegment: String?
        package var lastSegment: String?
        package var segments: Int64 = 0
        /// Stored (compressed) bytes of every file of the timeline, history and labels included.
        package var bytes: Int64 = 0
        /// Modification time of the timeline's newest file.
        package var newestModified: Date?
        /// Modification time of the newest whole segment: the archive covers every moment up to about then.
        package var newestSegmentModified: Date?
        package var gaps: [Gap] = []
        package var history = false
        package var partials: [String] = []
        package var backupLabels = 0

        package var missing: Int64 { gaps.reduce(0) { $0 + $1.missing } }

        init(timeline: UInt32, name: String) {
            self.timeline = timeline
            self.name = name
        }

        enum CodingKeys: String, CodingKey {
            case timeline = "name", firstSegment = "first_segment", lastSegment = "last_segment", segments, bytes
            case newestModified = "newest_modified", gaps, missing, history, partials, backupLabels = "backup_labels"
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .timeline)
            try c.encode(firstSegment, forKey: .firstSegment)
            try c.encode(lastSegment, forKey: .lastSegment)
            try c.encode(segments, forKey: .segments)
            try c.encode(bytes, forKey: .bytes)
            try c.encode(newestModified, forKey: .newestModified)
            try c.encode(gaps, forKey: .gaps)
            try c.encode(missing, forKey: .missing)
            try c.encode(history, forKey: .history)
            try c.encode(partials, forKey: .partials)
            try c.encode(backupLabels, forKey: .backupLabels)
        }
    }

    package let repository: String
    /// Bytes per segment, from a stored trailer; nil when no trailer could be read (then 16 MB
    /// is assumed for gap arithmetic and `notes` says so).
    package var segmentSize: Int64?
    package var timelines: [Timeline] = []
    /// Names under `wal/` that are not the repository's (ignored).
    package var strays = 0
    /// What could not be determined, for people.
    package var notes: [String] = []

    package var segments: Int64 { timelines.reduce(0) { $0 + $1.segments } }
    package var bytes: Int64 { timelines.reduce(0) { $0 + $1.bytes } }
    package var gaps: [(timeline: Timeline, gap: Gap)] { timelines.flatMap { t in t.gaps.map { (t, $0) } } }
    package var newestModified: Date? { timelines.compactMap(\.newestModified).max() }
    package var newestSegmentModified: Date? { timelines.compactMap(\.newestSegmentModified).max() }

    package static let defaultSegmentSize: Int64 = 16 << 20

    init(repository: String) {
        self.repository = repository
    }

    /// Scans `repository`. Throws `.io` with the cause and the fix when the repository or one
    /// of its directories cannot be listed; an absent `wal/` is an empty archive.
    package static func scan(_ repository: WALRepository) throws(WALArchiveError) -> WALRepositoryScan {
        try repository.checkRoot()
        var scan = WALRepositoryScan(repository: repository.root)
        let wal = repository.walDirectory
        var info = stat()
        if lstat(wal, &info) != 0, errno == ENOENT { return scan }
        var found: [(Timeline, [UInt64], String?)] = []
        for entry in try list(wal) where entry != WALClusterIdentity.fileName && !entry.hasPrefix(".") {
            guard entry.count == 8, let timeline = hexValue(entry), timeline != 0 else { scan.strays += 1; continue }
            found.append(try scanTimeline(wal + "/" + entry, timeline: timeline, name: entry, strays: &scan.strays))
        }
        scan.segmentSize = segmentSize(found.compactMap(\.2))
        if scan.segmentSize == nil, found.contains(where: { !$0.1.isEmpty }) {
            scan.notes.append("no stored segment has a readable checksum trailer: 16 MB segments assumed for gaps")
        }
        let perLog = UInt64(1) << 32 / UInt64(scan.segmentSize ?? defaultSegmentSize)
        for (var timeline, numbers, _) in found {
            // Positions along the timeline: log * segments per log + segment.
            let positions = numbers.compactMap { number -> UInt64? in
                let (log, segment) = (number >> 32, number & 0xFFFF_FFFF)
                return segment < perLog ? log * perLog + segment : nil
            }.sorted()
            if positions.count < numbers.count {
                scan.notes.append("timeline \(timeline.name): \(numbers.count - positions.count) segment names do not exist with \(scan.segmentSize ?? defaultSegmentSize)-byte segments")
            }
            timeline.segments = Int64(positions.count)
            let name = { (position: UInt64) in segmentName(timeline.timeline, position / perLog, position % perLog) }
            if let first = positions.first, let last = positions.last {
                timeline.firstSegment = name(first)
                timeline.lastSegment = name(last)
            }
            for (before, after) in zip(positions, positions.dropFirst()) where after > before + 1 {
                timeline.gaps.append(Gap(after: name(before), firstMissing: name(before + 1), lastMissing: name(after - 1), missing: Int64(after - before - 1)))
            }
            scan.timelines.append(timeline)
        }
        return scan
    }

    /// One timeline directory: its history file and its log directories. Returns the timeline
    /// (without segment range and gaps), each segment as `log << 32 | segment`, and the path
    /// of one stored segment for the segment size.
    private static func scanTimeline(_ path: String, timeline number: UInt32, name: String, strays: inout Int) throws(WALArchiveError) -> (Timeline, [UInt64], String?) {
        var timeline = Timeline(timeline: number, name: name)
        var numbers: [UInt64] = []
        var sample: String?
        /// Adds a regular file's size and time; false for anything else (a directory or a link
        /// under a stored name is not an archived file, so it must not hide a gap).
        func account(_ directory: String, _ entry: String) -> Date? {
            var info = stat()
            guard lstat(directory + "/" + entry, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            timeline.bytes += Int64(info.st_size)
            let modified = Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
            timeline.newestModified = max(timeline.newestModified ?? modified, modified)
            return modified
        }
        for entry in try list(path) {
            if entry.hasPrefix(".") { continue }
            if entry == name + ".history.zst" {
                timeline.history = account(path, entry) != nil
                continue
            }
            guard entry.count == 16, entry.hasPrefix(name), hexValue(String(entry.suffix(8))) != nil else { strays += 1; continue }
            let directory = path + "/" + entry
            for file in try list(directory) {
                if file.hasPrefix(".") { continue }
                guard file.hasSuffix(".zst"), let parsed = try? WALFileName(String(file.dropLast(4))),
                      parsed.timelineAndLog == entry, let modified = account(directory, file) else { strays += 1; continue }
                switch parsed.kind {
                case .segment:
                    numbers.append(UInt64(parsed.log) << 32 | UInt64(parsed.segment))
                    timeline.newestSegmentModified = max(timeline.newestSegmentModified ?? modified, modified)
                    if sample == nil { sample = directory + "/" + file }
                case .partial: timeline.partials.append(parsed.name)
                case .backup: timeline.backupLabels += 1
                case .history: strays += 1
                }
            }
        }
        return (timeline, numbers, sample)
    }

    /// The uncompressed size recorded in a stored segment's trailer (the first of a few that
    /// has one: a damaged file must not decide the size).
    private static func segmentSize(_ candidates: [String]) -> Int64? {
        for path in candidates.prefix(3) {
            let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= WALChecksumTrailer.size else { continue }
            var bytes = [UInt8](repeating: 0, count: WALChecksumTrailer.size)
            let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, WALChecksumTrailer.size, off_t(info.st_size) - off_t(WALChecksumTrailer.size)) }
            guard read == WALChecksumTrailer.size, let trailer = WALChecksumTrailer(decoding: bytes),
                  WALSegmentCheck.validSize(trailer.bytes) else { continue }
            return trailer.bytes
        }
        return nil
    }

    private static func list(_ path: String) throws(WALArchiveError) -> [String] {
        do throws(ArchiveError) {
            return try DirectoryListing.names(in: ArchivePath(path)).map { String(decoding: $0, as: UTF8.self) }
        } catch {
            throw WALArchiveError(.io, "\(error.message): the user reading the archive needs read and search permission on every directory of the repository (the orchestrator user in the repository's group, directories mode 2750)")
        }
    }

    /// The value of exactly 8 upper-case hex digits.
    private static func hexValue(_ text: String) -> UInt32? {
        guard text.utf8.count == 8, text.utf8.allSatisfy({ (48...57).contains($0) || (65...70).contains($0) }) else { return nil }
        return UInt32(text, radix: 16)
    }

    package static func segmentName(_ timeline: UInt32, _ log: UInt64, _ segment: UInt64) -> String {
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        }
        return hex(UInt64(timeline)) + hex(log) + hex(segment)
    }
}
