/// `file_retention.NAME`: files under one directory that may be deleted once old enough
/// (log and temp cleanup).
package struct FileRetentionPolicy: Sendable, Decodable, Equatable {
    /// Absolute directory; nothing outside it is ever touched.
    package var directory: String
    /// Shell patterns matched against file names (`*.log`, `*.tmp`).
    package var patterns: [String]
    package var olderThanDays: Int
    /// Descend into subdirectories (never through symbolic links).
    package var recursive: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case directory, patterns, olderThanDays = "older_than_days", recursive
    }

    package init(directory: String, patterns: [String], olderThanDays: Int, recursive: Bool = true) {
        self.directory = directory
        self.patterns = patterns
        self.olderThanDays = olderThanDays
        self.recursive = recursive
    }

    package init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        directory = try c.decode(String.self, forKey: .directory)
        patterns = try c.decode([String].self, forKey: .patterns)
        olderThanDays = try c.decode(Int.self, forKey: .olderThanDays)
        recursive = try c.decode(.recursive, default: true)
    }
}
