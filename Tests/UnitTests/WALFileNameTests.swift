import Testing
@testable import WALArchive

/// `%f` and `%p` come from PostgreSQL, but the commands treat them as hostile: only the shapes
/// PostgreSQL makes are accepted.
@Suite("WAL file names")
struct WALFileNameTests {
    @Test func segmentsPartialsBackupLabelsAndHistoriesParse() throws {
        let segment = try WALFileName("0000000200000001000000A3")
        #expect(segment.kind == .segment)
        #expect(segment.timeline == 2 && segment.log == 1 && segment.segment == 0xA3)
        #expect(segment.timelineAndLog == "0000000200000001")
        #expect(segment.isSegmentSized)

        let partial = try WALFileName("000000010000000000000003.partial")
        #expect(partial.kind == .partial && partial.segment == 3 && partial.isSegmentSized)

        let backup = try WALFileName("000000010000000000000002.00000028.backup")
        #expect(backup.kind == .backup && backup.segment == 2 && !backup.isSegmentSized)

        let history = try WALFileName("0000000A.history")
        #expect(history.kind == .history && history.timeline == 10 && !history.isSegmentSized)
    }

    @Test(arguments: [
        "", "0", "00000001000000000000000", "0000000100000000000000001", "000000010000000000000001 ",
        "000000010000000000000001\n", "00000001000000000000000a", "0000000100000000000000G1",
        "000000000000000000000001", "00000000.history", "00000001.HISTORY", ".history", "00000001.history.zst",
        "000000010000000000000001.zst", "000000010000000000000001.tmp", "000000010000000000000001.partial.partial",
        "000000010000000000000001.0000002.backup", "000000010000000000000001.0000002G.backup",
        "000000010000000000000001.00000028.backup.partial", "../000000010000000000000001", "000000010000000000000001/..",
        "..", ".", "/", "RECOVERYXLOG", "00000001\u{0}0000000000000001", "０00000010000000000000001",
        "000000010000000000000001\u{301}", String(repeating: "0", count: 4096),
    ])
    func anythingElseIsRefused(_ name: String) {
        #expect(throws: WALArchiveError.self) { try WALFileName(name) }
        do {
            _ = try WALFileName(name)
        } catch {
            #expect(error.code == .refused)
            #expect(!error.message.contains("\n"), "control characters are escaped in messages")
            #expect(error.message.count < 400)
        }
    }
}
