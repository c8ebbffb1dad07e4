@testable import Backups
import Crypto
import Foundation
@testable import Kinds
@testable import Settings
import Testing

@Suite("Physical backup settings and formats")
struct PhysicalBackupSettingsTests {
    private func problems(_ yaml: String) -> [String] {
        do {
            return try Configuration.parse(yaml: yaml).validate(registry: .standard).map(\.description)
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func aPhysicalProfileDecodesWithLowImpactDefaults() throws {
        let configuration = try Configuration.parse(yaml: """
            databases: {trading: {dbname: trading_agent}}
            wal_archive: {repository: /var/lib/orchestrator/repository}
            backups:
              profiles:
                base: {method: physical, database: trading, max_rate: 20M}
            """)
        let profile = try #require(configuration.backups.profiles["base"])
        #expect(profile.method == .physical)
        #expect(profile.checkpoint == .spread, "no checkpoint burst by default")
        #expect(profile.maxRate == "20M")
        #expect(configuration.walArchive?.repository == "/var/lib/orchestrator/repository")
        #expect(configuration.validate(registry: .standard).isEmpty)
        #expect(BaseBackupTaker.compressionOption(profile).option == "client-zstd:level=1", "compressed on this host, not by the server")
        #expect(BaseBackupTaker.compressionOption(profile, workers: 2).option == "client-zstd:level=1,workers=2", "zstd on backups.parallel_jobs threads")
        #expect(BaseBackupTaker.compressionOption(profile, workers: configuration.backups.parallelJobs).option
                == (ProcessInfo.processInfo.activeProcessorCount <= 2 ? "client-zstd:level=1" : "client-zstd:level=1,workers=2"),
                "one thread on a small host, where parallel_jobs defaults to 1")
    }

    @Test func physicalProfileMistakesAreNamed() {
        let found = problems("""
            databases: {trading: {dbname: trading_agent}}
            wal_archive: {repository: relative/path}
            backups:
              profiles:
                base: {method: physical, max_rate: 10G, compression: brotli}
                mixed: {method: physical, database: trading, databases: [trading]}
                wal: {databases: [trading]}
                logical: {databases: [trading], max_rate: 20M}
            """).joined(separator: "\n")
        #expect(found.contains("backups.profiles.base.database"), "\(found)")
        #expect(found.contains("backups.profiles.base.max_rate"), "\(found)")
        #expect(found.contains("backups.profiles.base.compression"), "\(found)")
        #expect(found.contains("backups.profiles.mixed: a physical profile copies the whole cluster"), "\(found)")
        #expect(found.contains("\"wal\" is reserved"), "\(found)")
        #expect(found.contains("backups.profiles.logical: database, max_rate, compression_level and format are for physical profiles"), "\(found)")
        #expect(found.contains("wal_archive.repository"), "\(found)")
    }

    @Test func transferRatesFollowPgBasebackup() {
        for good in ["32", "512k", "20M", "1024M", "1048576"] { #expect(Configuration.isTransferRate(good), "\(good)") }
        for bad in ["31", "0", "1025M", "20 M", "-5", "20G", "", "M", "２０M"] { #expect(!Configuration.isTransferRate(bad), "\(bad)") }
    }

    @Test func walPositionsNameTheirSegments() throws {
        let position = try #require(WALPosition("9/B9000028"))
        #expect(position.description == "9/B9000028")
        #expect(position.segmentName(timeline: 1, segmentSize: 16 << 20) == "0000000100000009000000B9")
        #expect(WALPosition(0x1_0000_0000).segmentName(timeline: 3, segmentSize: 64 << 20) == "000000030000000100000000")
        for bad in ["", "9", "9/", "/1", "G/1", "123456789/0", "1/2/3"] { #expect(WALPosition(bad) == nil, "\(bad)") }
    }

    @Test func aBackupManifestIsCheckedAgainstItsOwnChecksum() throws {
        let body = """
            { "PostgreSQL-Backup-Manifest-Version": 1,
            "Files": [
            { "Path": "PG_VERSION", "Size": 3, "Last-Modified": "2026-11-30 05:45:39 GMT", "Checksum-Algorithm": "SHA256", "Checksum": "AB" },
            { "Encoded-Path": "6e6f6e2dff", "Size": 0, "Last-Modified": "2026-11-30 05:45:39 GMT", "Checksum-Algorithm": "SHA256", "Checksum": "cd" }
            ],
            "WAL-Ranges": [
            { "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }
            ],

            """
        let checksum = SHA256.hash(data: Data(body.utf8)).map { String(format: "%02x", $0) }.joined()
        let manifest = try PostgresBackupManifest(data: Data((body + "\"Manifest-Checksum\": \"\(checksum)\"}\n").utf8))
        #expect(manifest.files.map(\.path) == [Array("PG_VERSION".utf8), [0x6e, 0x6f, 0x6e, 0x2d, 0xff]])
        #expect(manifest.files.first?.sha256 == "ab")
        #expect(manifest.walRanges == [.init(timeline: 1, start: WALPosition("0/2000028")!, end: WALPosition("0/2000100")!)])

        let tampered = body.replacingOccurrences(of: "\"Size\": 3", with: "\"Size\": 4")
        #expect(throws: BackupError.self) {
            try PostgresBackupManifest(data: Data((tampered + "\"Manifest-Checksum\": \"\(checksum)\"}\n").utf8))
        }
        #expect(throws: BackupError.self) { try PostgresBackupManifest(data: Data(body.utf8)) }
    }

    @Test func recoverySettingsQuoteHostilePaths() {
        #expect(RecoveryConfiguration.configQuoted("it's a \\ path") == "'it''s a \\\\ path'")
        #expect(RecoveryConfiguration.shellQuoted("/srv/o'brien $(rm -rf /)") == "'/srv/o'\\''brien $(rm -rf /)'")
        #expect(RecoveryTarget.postgresTimestamp(Date(timeIntervalSince1970: 1_796_036_530.25)) == "2026-11-30 11:02:10.250000+00")
    }
}
