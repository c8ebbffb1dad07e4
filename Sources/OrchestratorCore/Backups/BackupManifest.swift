import Foundation

/// `manifest.json` at the root of every backup: what it holds and how to check every byte.
/// Never holds a secret: no connection strings, only database names and server facts.
public struct BackupManifest: Sendable, Codable, Equatable {
    public static let fileName = "manifest.json"
    public static let currentFormat = 1

    public var format: Int
    public var profile: String
    public var label: String
    public var host: String
    public var orchestratorVersion: String
    public var startedAt: Date
    public var finishedAt: Date
    public var databases: [DatabaseDump]
    public var globals: String?
    public var fileSets: [FileSet]
    /// Every file of the backup except the manifest itself, sorted by path.
    public var files: [FileRecord]
    public var timings: [String: Double]

    public struct DatabaseDump: Sendable, Codable, Equatable {
        public var name: String
        public var dbname: String
        /// Directory-format dump, relative to the backup root.
        public var path: String
        public var serverVersion: String
        public var snapshotTime: Date
        public var pgDumpVersion: String
        public var pgDumpOptions: [String]
        public var tables: [TableCount]
    }

    public struct TableCount: Sendable, Codable, Equatable {
        public var schema: String
        public var table: String
        public var rows: Int64
    }

    public struct FileSet: Sendable, Codable, Equatable {
        public var archive: String
        public var paths: [String]
        public var excludes: [String]
        public var entries: Int
        public var bytes: Int64
    }

    public struct FileRecord: Sendable, Codable, Equatable {
        public var path: String
        public var bytes: Int64
        public var sha256: String
    }

    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.bytes } }

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

    public func encoded() throws -> Data { try Self.encoder.encode(self) }

    public static func decode(_ data: Data) throws -> BackupManifest {
        do {
            return try decoder.decode(BackupManifest.self, from: data)
        } catch {
            throw BackupError("manifest.json is not a valid manifest: \(error)")
        }
    }
}
