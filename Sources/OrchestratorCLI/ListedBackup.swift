import Backups
import Foundation

/// A line of `backups list`: the backup and where its copies are. In JSON, the backup's own
/// fields with `copies` beside them, so scripts reading the old fields keep working.
struct ListedBackup: Encodable {
    let backup: BackupRecord
    let copies: [BackupCopyRecord]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try backup.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(copies, forKey: Key(stringValue: "copies"))
    }

    var copiesText: String { BackupCopyRecord.summary(of: copies) }
}
