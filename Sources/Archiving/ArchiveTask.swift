import Foundation

/// One piece of archive work a job needs, as a value that can cross a process boundary: the
/// worker may hand it to a child process (`orchestrator archive-task`) so that a crash inside
/// libarchive ends that child, not the worker.
public enum ArchiveTask: Codable, Sendable, Equatable {
    /// Writes `paths` (files or trees; excluded names skipped) into a new archive.
    case create(archive: String, compression: ArchiveCompression, paths: [String], excludes: [String])
    /// Reads an archive end to end (every block decoded), writing nothing.
    case read(archive: String)
    /// Extracts an archive under `directory` with `SafeExtractor`.
    case extract(archive: String, directory: String)

    public struct Result: Codable, Sendable, Equatable {
        public let entries: Int
        public let bytes: Int64

        public init(entries: Int, bytes: Int64) {
            self.entries = entries
            self.bytes = bytes
        }
    }

    /// What a child process reports: the result, or the archive error it met.
    public struct Reply: Codable, Sendable {
        public var result: Result?
        public var errorCode: String?
        public var errorMessage: String?

        public init(_ outcome: Swift.Result<Result, any Error>) {
            switch outcome {
            case .success(let result):
                self.result = result
            case .failure(let error as ArchiveError):
                errorCode = error.code.rawValue
                errorMessage = error.message
            case .failure(let error):
                errorCode = ArchiveError.Code.io.rawValue
                errorMessage = "\(error)"
            }
        }

        /// The result, or the error rethrown as the `ArchiveError` it was.
        public func get() throws -> Result {
            if let result { return result }
            throw ArchiveError(errorCode.flatMap(ArchiveError.Code.init(rawValue:)) ?? .io, errorMessage ?? "archive work failed without a message")
        }
    }

    /// Does the work in this process. Blocking; use it from a dedicated thread.
    public func perform() throws -> Result {
        switch self {
        case .create(let archive, let compression, let paths, let excludes):
            let writer = try TarWriter(path: archive, compression: compression)
            let filter = PathFilter(excluding: excludes)
            for path in paths {
                try writer.add(tree: path, as: String(path.drop { $0 == "/" }), filter: filter)
            }
            try writer.finish()
            return Result(entries: writer.entries, bytes: writer.bytes)
        case .read(let archive):
            var entries = 0
            var bytes: Int64 = 0
            try TarReader.read(path: archive, entry: { _ in entries += 1 }, data: { _, block in bytes += Int64(block.count) })
            return Result(entries: entries, bytes: bytes)
        case .extract(let archive, let directory):
            let summary = try SafeExtractor.extract(archive: archive, into: directory)
            return Result(entries: summary.entries, bytes: summary.bytes)
        }
    }
}
