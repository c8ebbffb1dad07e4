import Crypto
import Foundation

/// The `backup_manifest` `pg_basebackup` writes (format version 1): every file of the data
/// directory with its size and checksum, the WAL range the backup needs, and a checksum of the
/// manifest itself. Read to verify a base backup file by file, as `pg_verifybackup` does.
package struct PostgresBackupManifest: Sendable {
    package static let fileName = "backup_manifest"

    package struct File: Sendable, Equatable {
        /// The path's bytes (names that are not UTF-8 come hex-encoded as `Encoded-Path`).
        package let path: [UInt8]
        package let size: Int64
        /// Lower-case hex SHA-256, or nil when the backup was taken without SHA-256 checksums.
        package let sha256: String?
    }

    package struct WALRange: Sendable, Equatable {
        package let timeline: UInt32
        package let start: WALPosition
        package let end: WALPosition
    }

    package let files: [File]
    package let walRanges: [WALRange]

    /// Decodes the manifest and checks its own checksum: the SHA-256 of every byte before the
    /// line holding `"Manifest-Checksum"`.
    package init(data: Data) throws {
        guard let marker = data.range(of: Data("\n\"Manifest-Checksum\": \"".utf8)) else {
            throw BackupError("backup_manifest has no Manifest-Checksum line (truncated?)")
        }
        let covered = data[data.startIndex..<(marker.lowerBound + 1)]
        let computed = SHA256.hash(data: covered).map { String(format: "%02x", $0) }.joined()
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch {
            throw BackupError("backup_manifest is not a valid PostgreSQL backup manifest: \(error)")
        }
        guard raw.version == 1 else {
            throw BackupError("backup_manifest has version \(raw.version); this orchestrator reads version 1")
        }
        guard raw.checksum.lowercased() == computed else {
            throw BackupError("backup_manifest is corrupt: its Manifest-Checksum does not match its contents")
        }
        files = try raw.files.map { file in
            let path: [UInt8]
            if let plain = file.path {
                path = Array(plain.utf8)
            } else if let encoded = file.encodedPath, let bytes = Self.hexBytes(encoded) {
                path = bytes
            } else {
                throw BackupError("backup_manifest lists a file without a readable path")
            }
            let sha256: String?
            switch file.algorithm?.uppercased() {
            case "SHA256": sha256 = file.checksum?.lowercased()
            case nil, "NONE": sha256 = nil
            case let other?:
                throw BackupError("backup_manifest uses \(other) checksums; take base backups with --manifest-checksums=SHA256")
            }
            return File(path: path, size: file.size, sha256: sha256)
        }
        walRanges = try raw.walRanges.map { range in
            guard let start = WALPosition(range.start), let end = WALPosition(range.end), start <= end else {
                throw BackupError("backup_manifest has an unreadable WAL range \(range.start)-\(range.end)")
            }
            return WALRange(timeline: range.timeline, start: start, end: end)
        }
        guard !walRanges.isEmpty else { throw BackupError("backup_manifest names no WAL range") }
    }

    private struct Raw: Decodable {
        let version: Int
        let files: [RawFile]
        let walRanges: [RawRange]
        let checksum: String
        enum CodingKeys: String, CodingKey {
            case version = "PostgreSQL-Backup-Manifest-Version", files = "Files", walRanges = "WAL-Ranges", checksum = "Manifest-Checksum"
        }
    }

    private struct RawFile: Decodable {
        let path: String?
        let encodedPath: String?
        let size: Int64
        let algorithm: String?
        let checksum: String?
        enum CodingKeys: String, CodingKey {
            case path = "Path", encodedPath = "Encoded-Path", size = "Size", algorithm = "Checksum-Algorithm", checksum = "Checksum"
        }
    }

    private struct RawRange: Decodable {
        let timeline: UInt32
        let start: String
        let end: String
        enum CodingKeys: String, CodingKey {
            case timeline = "Timeline", start = "Start-LSN", end = "End-LSN"
        }
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}
