import Archiving
import Foundation
import Queue
import Runtime
import Settings
import Support

/// `file-retention [POLICY]`: deletes files matching a policy's patterns and older than its age,
/// under its directory only. Symbolic links are neither followed nor deleted, so nothing outside
/// the directory can be reached. Runs on the host's queue; records count and bytes.
package struct FileRetentionJob: JobKind {
    package init() {}
    package let name = "file-retention"
    package let summary = "delete old files matching a file_retention policy (all policies without a target)"
    package let target = TargetRule.optional("a file_retention policy name (default: all)")
    package let defaultMaxAttempts = 3
    package let defaultTimeoutSeconds = 3600
    package let placement = Placement.host

    package struct Arguments: JobArguments, Equatable {
        static let dryRun = JobArgument.boolean("dry_run", default: false, "only count what would be deleted")
        package static let specs = [dryRun.spec]

        package var dryRun: Bool
    }

    package func validate(target: String?, arguments: Arguments, configuration: Configuration) throws(JobValidationError) -> String? {
        if let target, configuration.fileRetention[target] == nil {
            let known = configuration.fileRetention.keys.sorted()
            throw JobValidationError("unknown file_retention policy \(target.debugDescription); configured: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
        }
        return nil
    }

    package func run(_ job: ClaimedJob, arguments: Arguments, context: JobContext) async throws -> [String: JSONValue] {
        let dryRun = arguments.dryRun
        var results: [JSONValue] = []
        for (name, policy) in context.configuration.fileRetention.sorted(by: { $0.key < $1.key }) where job.target == nil || job.target == name {
            let sweep = try await Archiver.run { try FileSweeper.sweep(policy, dryRun: dryRun, now: Date()) }
            context.logger.info("file retention", metadata: ["policy": "\(name)", "files": "\(sweep.files)", "bytes": "\(sweep.bytes)", "dry_run": "\(dryRun)"])
            results.append(.object([
                "policy": .string(name), "files": .int(Int64(sweep.files)), "bytes": .int(sweep.bytes),
                "errors": .array(sweep.errors.map { .string($0) }),
            ]))
        }
        return ["policies": .array(results), "dry_run": .bool(dryRun)]
    }
}

extension FileRetentionJob.Arguments {
    package init(_ values: ArgumentValues) throws(JobValidationError) {
        dryRun = try values[Self.dryRun]
    }
}

enum FileSweeper {
    struct Sweep: Sendable {
        var files = 0
        var bytes: Int64 = 0
        var errors: [String] = []
    }

    static func sweep(_ policy: FileRetentionPolicy, dryRun: Bool, now: Date) throws -> Sweep {
        var info = stat()
        guard lstat(policy.directory, &info) == 0 else {
            throw PermanentJobError("directory \(policy.directory) does not exist or cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw PermanentJobError("\(policy.directory) is not a directory (symbolic links are not followed)")
        }
        let cutoff = now.timeIntervalSince1970 - Double(policy.olderThanDays) * 86_400
        var sweep = Sweep()
        // Names are bytes from readdir: a name that is not UTF-8 is swept like any other.
        func visit(_ directory: ArchivePath) {
            guard let names = try? DirectoryListing.names(in: directory) else {
                sweep.errors.append("cannot list \(directory)")
                return
            }
            for name in names {
                let path = directory.appending(name)
                var entry = stat()
                guard path.withCString({ lstat($0, &entry) }) == 0 else { continue }
                switch entry.st_mode & S_IFMT {
                case S_IFDIR:
                    if policy.recursive { visit(path) }
                case S_IFREG:
                    let matches = ArchivePath(bytes: name).withCString { name in policy.patterns.contains { fnmatch($0, name, 0) == 0 } }
                    guard Double(entry.st_mtim.tv_sec) < cutoff, matches else { continue }
                    if dryRun || path.withCString({ unlink($0) }) == 0 {
                        sweep.files += 1
                        sweep.bytes += Int64(entry.st_size)
                    } else {
                        sweep.errors.append("cannot delete \(path): \(String(cString: strerror(errno)))")
                    }
                default:
                    continue  // symbolic links, sockets, devices: never followed, never deleted
                }
            }
        }
        visit(ArchivePath(policy.directory))
        return sweep
    }
}
