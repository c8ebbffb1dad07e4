@testable import Backups
import Foundation
import TestSupport
import Testing

/// A base backup's data tar is decompressed on one thread while its members are hashed (and
/// written, when restored) on another: a damaged backup still fails with the error of the side
/// that found the damage, naming it, and a failed restore leaves no data directory.
@Suite("Base backups read on two threads")
struct BaseBackupPipelineTests {
    /// The data tar with one byte of the largest member in the middle of the tar flipped, then
    /// compressed again: a valid archive whose member no longer matches backup_manifest.
    private static func tamperMember(in archive: String) throws -> String {
        var tar = try run("/usr/bin/zstd", ["-d", "-q", "-c", archive])
        var offset = 0
        var members: [(name: String, data: Int, size: Int)] = []
        while offset + 512 <= tar.count {
            let header = tar[offset..<(offset + 512)]
            guard header.contains(where: { $0 != 0 }) else { break }
            func field(_ start: Int, _ length: Int) -> String {
                String(decoding: header[(offset + start)..<(offset + start + length)].prefix { $0 != 0 }, as: UTF8.self)
            }
            let size = Int(field(124, 12).trimmingCharacters(in: .whitespaces), radix: 8) ?? 0
            let prefix = field(345, 155)
            let name = prefix.isEmpty ? field(0, 100) : prefix + "/" + field(0, 100)
            let type = tar[offset + 156]
            if type == UInt8(ascii: "0") || type == 0 { members.append((name, offset + 512, size)) }
            offset += 512 + (size + 511) / 512 * 512
        }
        // The largest member not at the end: the reading thread still has archive to read.
        let member = try #require(members.dropLast(3).max { $0.size < $1.size })
        try #require(member.size > 0)
        tar[member.data + member.size / 2] ^= 0xFF
        let plain = archive + ".tampered.tar"
        try tar.write(to: URL(fileURLWithPath: plain))
        _ = try run("/usr/bin/zstd", ["-1", "-q", "-f", "--rm", plain, "-o", archive])
        return member.name
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestEnvironmentError("\(tool) \(arguments) failed") }
        return data
    }

    @Test func aMemberThatNoLongerMatchesFailsRestoreAndVerifyMidStreamNamingIt() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let record = try await fixture.baseBackup()
            let physical = try #require(try await BackupRestorer.manifest(of: record).physical)
            let member = try Self.tamperMember(in: record.location + "/" + physical.baseArchive)

            let verify = #expect(throws: BackupError.self) { _ = try BaseBackupCheck.verify(directory: record.location, physical: physical) }
            #expect(verify?.description == "base.tar.zst: \"\(member)\" is corrupt: SHA-256 differs from backup_manifest")

            let request = fixture.restoreRequest(.latest, name: "tampered")
            let restore = await #expect(throws: BackupError.self) { try await fixture.restorer.run(request) }
            #expect(restore?.description == "base.tar.zst: \"\(member)\" is corrupt: SHA-256 differs from backup_manifest")
            #expect(!FileManager.default.fileExists(atPath: request.dataDirectory), "a failed restore removes what it wrote")
        }
    }

    @Test func aTruncatedDataTarFailsWithTheReadersErrorAndTheRestoreLeavesNothing() async throws {
        try await PhysicalBackupFixture.with { fixture in
            let record = try await fixture.baseBackup()
            let physical = try #require(try await BackupRestorer.manifest(of: record).physical)
            let archive = record.location + "/" + physical.baseArchive
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: archive))
            let size = try handle.seekToEnd()
            try handle.truncate(atOffset: size / 2)
            try handle.close()

            let verify = #expect(throws: BackupError.self) { _ = try BaseBackupCheck.verify(directory: record.location, physical: physical) }
            #expect(verify?.description.hasPrefix("base.tar.zst cannot be read end to end: \(archive) is damaged") == true, "\(verify?.description ?? "")")

            let request = fixture.restoreRequest(.latest, name: "truncated")
            let restore = await #expect(throws: BackupError.self) { try await fixture.restorer.run(request) }
            #expect(restore?.description.hasPrefix("base.tar.zst cannot be restored: \(archive) is damaged") == true, "\(restore?.description ?? "")")
            #expect(!FileManager.default.fileExists(atPath: request.dataDirectory), "a failed restore removes what it wrote")
        }
    }
}
