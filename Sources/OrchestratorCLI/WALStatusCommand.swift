import ArgumentParser
import Foundation
import Support
import WALArchive

/// `orchestrator wal status`: the repository's timelines, ranges, holes and size, from
/// directory listings alone (read-only; no database), and, from the configuration, what waits
/// in `wal_stream`'s spool and asynchronous archiving's. Exit 1 when a timeline has a gap.
struct WALStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Timelines, segment ranges, gaps and size of the WAL repository (read-only).",
        discussion: """
            The repository is --repository DIR, else wal_archive.repository of the main configuration. \
            Exit codes: 0 no gap; 1 a timeline misses segments between its first and last (each gap is named); \
            74 the repository cannot be listed; 78 configuration error.
            """
    )

    static let unreadable = ExitCode(74)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("Repository directory (absolute); default: wal_archive.repository of the configuration.", valueName: "DIR"))
    var repository: String?

    func run() async throws {
        let root: String
        var spools = Spools()
        if let repository {
            root = repository
        } else {
            let configuration = try global.environment().configuration
            guard let configured = configuration.walArchive else {
                printError("no repository: pass --repository DIR or add wal_archive: {repository: DIR} to the configuration")
                throw ExitCodes.configuration
            }
            root = configured.repository
            spools = await Spools.read(configuration)
        }
        let scan: WALRepositoryScan
        do throws(WALArchiveError) {
            let location = try WALRepository(root: root)
            scan = try await Blocking.run { () throws(WALArchiveError) in try WALRepositoryScan.scan(location) }
        } catch {
            printError("wal status: \(error.message)")
            // What waits in the spools matters most when the repository cannot take it.
            if !global.json { for line in spools.lines() { print(line) } }
            throw Self.unreadable
        }
        if global.json {
            try Output.printJSON(Report(scan, spools: spools))
        } else {
            print(Self.text(scan))
            for line in spools.lines() { print(line) }
        }
        if !scan.gaps.isEmpty { throw ExitCodes.failure }
    }

    static func text(_ scan: WALRepositoryScan, now: Date = Date()) -> String {
        var lines = ["repository: \(scan.repository)  segment size: \(scan.segmentSize.map { "\($0 >> 20) MB" } ?? "unknown")"]
        let rows = scan.timelines.map { timeline in
            [timeline.name, timeline.firstSegment ?? "-", timeline.lastSegment ?? "-", String(timeline.segments),
             String(format: "%.1f MB", Double(timeline.bytes) / 1_048_576), Output.ago(timeline.newestModified, now: now),
             timeline.gaps.isEmpty ? "none" : "\(timeline.gaps.count) (\(timeline.missing) missing)",
             timeline.history ? "yes" : "no"]
        }
        lines.append(Output.table(["TIMELINE", "FIRST", "LAST", "SEGMENTS", "SIZE", "NEWEST", "GAPS", "HISTORY"], rows))
        lines.append(String(format: "total: %d timelines, %lld segments, %.1f MB, newest %@", scan.timelines.count, scan.segments,
                            Double(scan.bytes) / 1_048_576, Output.ago(scan.newestModified, now: now)))
        for (timeline, gap) in scan.gaps {
            lines.append("gap after segment \(gap.after) on timeline \(timeline.name): missing \(gap.missingText)")
        }
        lines += scan.notes.map { "note: \($0)" }
        if scan.strays > 0 { lines.append("note: \(scan.strays) names under wal/ are not the repository's and were ignored") }
        return lines.joined(separator: "\n")
    }

    struct Report: Encodable {
        let repository: String
        let segmentSize: Int64?
        let healthy: Bool
        let timelines: [WALRepositoryScan.Timeline]
        let segments: Int64
        let bytes: Int64
        let newestModified: Date?
        let notes: [String]
        let streamSpool: WALStreamSpoolState?
        let streamSpoolProblem: String?
        let asyncSpool: WALAsyncSpoolState?
        let asyncSpoolProblem: String?

        init(_ scan: WALRepositoryScan, spools: Spools = Spools()) {
            streamSpool = spools.stream
            streamSpoolProblem = spools.streamProblem
            asyncSpool = spools.async
            asyncSpoolProblem = spools.asyncProblem
            repository = scan.repository
            segmentSize = scan.segmentSize
            healthy = scan.gaps.isEmpty
            timelines = scan.timelines
            segments = scan.segments
            bytes = scan.bytes
            newestModified = scan.newestModified
            notes = scan.notes
        }

        enum CodingKeys: String, CodingKey {
            case repository, segmentSize = "segment_size", healthy, timelines, segments, bytes, newestModified = "newest_modified", notes
            case streamSpool = "stream_spool", streamSpoolProblem = "stream_spool_problem", asyncSpool = "async_spool", asyncSpoolProblem = "async_spool_problem"
        }
    }
}
