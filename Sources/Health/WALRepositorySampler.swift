import Foundation
import Settings
import Support
import WALArchive

/// The repository's side of archive health (`wal_archive.repository`), from one
/// `WALRepositoryScan`: per timeline (subject `wal/<timeline>`) and in total (subject `wal`)
/// segments, bytes, holes and the newest file's age. An unreadable repository is a failed
/// sample that says why, never a thrown error. Blocking: call it from the jobs lane.
package enum WALRepositorySampler {
    package static func sample(_ settings: WALArchiveSettings, now: Date = Date()) -> [HealthSample] {
        let scan: WALRepositoryScan
        do throws(WALArchiveError) {
            scan = try WALRepositoryScan.scan(try WALRepository(root: settings.repository))
        } catch {
            let message = "repository \(settings.repository) cannot be scanned: \(error.message)"
            return ["wal.segments", "wal.gaps"].map { HealthSample.failure(.system, "wal", $0, message) }
        }
        return samples(scan, now: now)
    }

    static func samples(_ scan: WALRepositoryScan, now: Date) -> [HealthSample] {
        let base: [String: JSONValue] = ["repository": .string(scan.repository)]
        var total = base
        if let size = scan.segmentSize { total["segment_size"] = .int(size) }
        if !scan.notes.isEmpty { total["notes"] = .array(scan.notes.map(JSONValue.string)) }
        if scan.strays > 0 { total["foreign_names"] = .int(Int64(scan.strays)) }
        var samples = [
            HealthSample(.system, "wal", "wal.timelines", value: Double(scan.timelines.count), unit: "count", details: total),
            HealthSample(.system, "wal", "wal.segments", value: Double(scan.segments), unit: "count"),
            HealthSample(.system, "wal", "wal.bytes", value: Double(scan.bytes), unit: "bytes"),
            HealthSample(.system, "wal", "wal.gaps", value: Double(scan.gaps.count), unit: "count"),
            HealthSample(.system, "wal", "wal.missing_segments", value: Double(scan.timelines.reduce(0) { $0 + $1.missing }), unit: "count"),
        ]
        if let newest = scan.newestModified {
            samples.append(HealthSample(.system, "wal", "wal.newest_age_seconds", value: max(0, now.timeIntervalSince(newest)), unit: "seconds"))
        }
        for timeline in scan.timelines {
            let subject = "wal/\(timeline.name)"
            var details = base
            details["first_segment"] = timeline.firstSegment.map(JSONValue.string)
            details["last_segment"] = timeline.lastSegment.map(JSONValue.string)
            if !timeline.partials.isEmpty { details["partials"] = .array(timeline.partials.map(JSONValue.string)) }
            var gapDetails = details
            // Bounded: a damaged archive may have thousands of holes; the count says how many.
            gapDetails["gaps"] = .array(timeline.gaps.prefix(20).map { gap in
                .object(["after": .string(gap.after), "first_missing": .string(gap.firstMissing),
                         "last_missing": .string(gap.lastMissing), "missing": .int(gap.missing)])
            })
            gapDetails["missing_segments"] = .int(timeline.missing)
            let message = timeline.gaps.first.map { gap in
                "gap after segment \(gap.after) on timeline \(timeline.name): missing \(gap.missingText)"
                    + (timeline.gaps.count > 1 ? " and \(timeline.gaps.count - 1) more gaps" : "")
            }
            samples.append(HealthSample(.system, subject, "wal.segments", value: Double(timeline.segments), unit: "count", details: details))
            samples.append(HealthSample(.system, subject, "wal.bytes", value: Double(timeline.bytes), unit: "bytes"))
            samples.append(HealthSample(.system, subject, "wal.gaps", value: Double(timeline.gaps.count), unit: "count",
                                        status: timeline.gaps.isEmpty ? .ok : .failed, message: message, details: gapDetails))
            if let newest = timeline.newestModified {
                samples.append(HealthSample(.system, subject, "wal.newest_age_seconds", value: max(0, now.timeIntervalSince(newest)), unit: "seconds"))
            }
        }
        return samples
    }
}
