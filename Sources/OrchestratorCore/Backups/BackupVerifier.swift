import Archiving
import Foundation
import Logging

/// Re-reads every byte of a backup: the manifest against the catalog's checksum, every file
/// against the manifest (size and SHA-256, nothing missing, nothing extra), every tar archive
/// end to end, and every dump end to end through `pg_restore` (a listing alone passes a
/// truncated dump). The first problem found fails verification, naming the file.
public struct BackupVerifier: Sendable {
    public struct Report: Sendable, Equatable {
        public let files: Int
        public let bytes: Int64
    }

    let pgRestore: String?
    let logger: Logger

    public init(pgRestore: String? = ChildProcess.locate("pg_restore"), logger: Logger) {
        self.pgRestore = pgRestore
        self.logger = logger
    }

    public func verify(directory: String, manifestSHA256 expected: String?) async throws -> Report {
        let manifestPath = directory + "/" + BackupManifest.fileName
        guard let manifestData = FileManager.default.contents(atPath: manifestPath) else {
            throw BackupError("\(BackupManifest.fileName) is missing from \(directory)")
        }
        if let expected, FileDigest.sha256(of: manifestData) != expected {
            throw BackupError("\(BackupManifest.fileName) was modified: its SHA-256 differs from the catalog's")
        }
        let manifest = try BackupManifest.decode(manifestData)

        let present = try Self.files(under: directory).filter { $0 != BackupManifest.fileName }
        let listed = Set(manifest.files.map(\.path))
        if let missing = manifest.files.map(\.path).first(where: { !present.contains($0) }) {
            throw BackupError("\(missing) is missing")
        }
        if let extra = present.sorted().first(where: { !listed.contains($0) }) {
            throw BackupError("\(extra) is not in the manifest")
        }
        var bytes: Int64 = 0
        for record in manifest.files {
            let path = directory + "/" + record.path
            let digest = try await Archiver.run { try FileDigest.sha256(ofFileAt: path) }
            guard digest.bytes == record.bytes else {
                throw BackupError("\(record.path) has \(digest.bytes) bytes, the manifest says \(record.bytes) (truncated or grown)")
            }
            guard digest.sha256 == record.sha256 else {
                throw BackupError("\(record.path) is corrupt: SHA-256 differs from the manifest")
            }
            bytes += digest.bytes
        }
        for set in manifest.fileSets {
            let path = directory + "/" + set.archive
            do {
                try await Archiver.run { try TarReader.read(path: path) }
            } catch {
                throw BackupError("\(set.archive) cannot be read end to end: \(error)")
            }
        }
        for database in manifest.databases {
            guard let pgRestore else { throw BackupError("pg_restore not found; install the PostgreSQL client package") }
            do {
                try await ChildProcess.run(pgRestore, ["--file=/dev/null", directory + "/" + database.path])
            } catch {
                throw BackupError("dump \(database.path) cannot be read end to end: \(error)")
            }
        }
        return Report(files: manifest.files.count, bytes: bytes)
    }

    /// Regular files under `directory`, relative, not following symbolic links (a link is
    /// reported as a file so it fails the manifest comparison rather than being read through).
    static func files(under directory: String) throws -> Set<String> {
        var result: Set<String> = []
        func walk(_ relative: String) throws {
            let absolute = relative.isEmpty ? directory : directory + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: absolute) {
                let child = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(directory + "/" + child, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR { try walk(child) } else { result.insert(child) }
            }
        }
        try walk("")
        return result
    }
}
