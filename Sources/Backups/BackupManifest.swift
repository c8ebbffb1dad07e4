import Foundation
import Settings

/// `manifest.json` at the root of every backup: what it holds and how to check every byte.
/// Never holds a secret: no connection strings, only database names and server facts.
package struct BackupManifest: Sendable, Codable, Equatable {
    package static let fileName = "manifest.json"
    package static let currentFormat = 1

    package var format: Int
    package var profile: String
    package var label: String
    package var host: String
    package var orchestratorVersion: String
    package var startedAt: Date
    package var finishedAt: Date
    package var databases: [DatabaseDump]
    package var globals: String?
    package var fileSets: [FileSet]
    /// Every file of the backup except the manifest itself, sorted by path.
    package var files: [FileRecord]
    package var timings: [String: Double]
    /// Physical backups: what `pg_basebackup` copied and which WAL it needs.
    package var physical: PhysicalBackup?

    /// A `pg_basebackup` copy of a whole cluster (tar format) and where it sits in the WAL.
    package struct PhysicalBackup: Sendable, Codable, Equatable {
        package var serverVersion: String
        package var systemIdentifier: Int64
        package var timeline: UInt32
        /// WAL from here on (and the segments in `pg_wal.tar`) brings the copy to a consistent state at `stopPosition`.
        package var startPosition: WALPosition
        package var stopPosition: WALPosition
        package var startSegment: String
        package var stopSegment: String
        package var walSegmentSize: Int64
        /// The data directory's tar (compressed as `pg_basebackup` was asked to), or in plain
        /// format the directory holding the copy itself (`data`).
        package var baseArchive: String
        /// The WAL streamed during the backup (`pg_wal.tar`, maybe compressed); nil when not included.
        package var walArchive: String?
        package var pgBaseBackupVersion: String
        package var pgBaseBackupOptions: [String]
        /// nil: tar (every backup before plain format existed).
        package var format: BaseBackupFormat?

        package var isPlain: Bool { format == .plain }
    }

    package struct DatabaseDump: Sendable, Codable, Equatable {
        package var name: String
        package var dbname: String
        /// Directory-format dump, relative to the backup root.
        package var path: String
        package var serverVersion: String
        package var snapshotTime: Date
        package var pgDumpVersion: String
        package var pgDumpOptions: [String]
        package var tables: [TableCount]
    }

    package struct TableCount: Sendable, Codable, Equatable {
        package var schema: String
        package var table: String
        package var rows: Int64
        /// True for an extension's own table: its rows come from `CREATE EXTENSION` at restore,
        /// not from the dump, so it was counted on the server in the dump's snapshot. Absent
        /// (nil) for every other table, which is counted from the dump's data.
        package var countedOnServer: Bool?

        package init(schema: String, table: String, rows: Int64, countedOnServer: Bool? = nil) {
            self.schema = schema
            self.table = table
            self.rows = rows
            self.countedOnServer = countedOnServer
        }
    }

    package struct FileSet: Sendable, Codable, Equatable {
        package var archive: String
        package var paths: [String]
        package var excludes: [String]
        package var entries: Int
        package var bytes: Int64
    }

    package struct FileRecord: Sendable, Codable, Equatable {
        package var path: String
        package var bytes: Int64
        package var sha256: String
    }

    package var totalBytes: Int64 { files.reduce(0) { $0 + $1.bytes } }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    package func encoded() throws -> Data { try Self.encoder.encode(self) }

    package static func decode(_ data: Data) throws -> BackupManifest {
        do {
            return try decoder.decode(BackupManifest.self, from: data)
        } catch {
            throw BackupError("manifest.json is not a valid manifest: \(error)")
        }
    }
}
