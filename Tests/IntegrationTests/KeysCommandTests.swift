import Foundation
import Testing

/// `orchestrator keys`: an identity file only its owner reads, never overwritten, whose
/// recipient the standard age tools agree on.
@Suite("Keys command")
struct KeysCommandTests {
    let cli = CommandLineTests()

    @Test func generateWritesAPrivateIdentityFileAndPrintsItsRecipient() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("backup ключ.txt").path

        let generated = try await cli.run(["keys", "generate", "--output", file])
        #expect(generated.status == 0, "\(generated.stderr)")
        let recipient = generated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(recipient.hasPrefix("age1") && recipient.count == 62)
        #expect(!generated.stdout.contains("AGE-SECRET-KEY") && !generated.stderr.contains("AGE-SECRET-KEY"))
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        // age-keygen derives the same recipient; our own `keys recipient` too.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/age-keygen")
        process.arguments = ["-y", file]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let derived = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try await exited(process)
        #expect(derived.trimmingCharacters(in: .whitespacesAndNewlines) == recipient)
        let shown = try await cli.run(["keys", "recipient", file])
        #expect(shown.status == 0 && shown.stdout == recipient + "\n")

        // Never overwritten, and a planted link is not followed.
        let before = try String(contentsOfFile: file, encoding: .utf8)
        let again = try await cli.run(["keys", "generate", "--output", file])
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists; not overwritten"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == before)
        let target = directory.appendingPathComponent("elsewhere").path
        let link = directory.appendingPathComponent("link").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let planted = try await cli.run(["keys", "generate", "--output", link])
        #expect(planted.status == 1)
        #expect(!FileManager.default.fileExists(atPath: target))

        let json = try await cli.run(["keys", "generate", "--output", directory.appendingPathComponent("second").path, "--json"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: String])
        #expect(object["recipient"]?.hasPrefix("age1") == true && object["recipient"] != recipient)

        // A file that is not an identity file is named, its content is not echoed.
        let bogus = directory.appendingPathComponent("bogus").path
        try "AGE-SECRET-KEY-1NOTAKEY\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        let refused = try await cli.run(["keys", "recipient", bogus])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("line 1") && !refused.stderr.contains("NOTAKEY"))
    }

    @Test func encryptWritesAFileTheAgeToolDecrypts() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let identity = directory.appendingPathComponent("identity").path
        let recipient = try await cli.run(["keys", "generate", "--output", identity]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let plain = directory.appendingPathComponent("сделки 2026.dump").path
        let bytes = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) })
        try bytes.write(to: URL(fileURLWithPath: plain))
        let sealed = directory.appendingPathComponent("сделки 2026.dump.age").path

        let encrypted = try await cli.run(["keys", "encrypt", "--recipient", recipient, "--output", sealed, plain])
        #expect(encrypted.status == 0, "\(encrypted.stderr)")
        #expect((try FileManager.default.attributesOfItem(atPath: sealed)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let opened = directory.appendingPathComponent("opened").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/age")
        process.arguments = ["--decrypt", "--identity", identity, "--output", opened, sealed]
        try process.run()
        try await exited(process)
        #expect(process.terminationStatus == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: opened)) == bytes)

        // Never over an existing file; a bad recipient or a missing input leaves nothing behind.
        let again = try await cli.run(["keys", "encrypt", "-r", recipient, "-o", sealed, plain])
        #expect(again.status == 1 && again.stderr.contains("exists; not overwritten"))
        let other = directory.appendingPathComponent("other.age").path
        let typo = try await cli.run(["keys", "encrypt", "-r", "age1nope", "-o", other, plain])
        #expect(typo.status == 1 && typo.stderr.contains("not an age X25519 recipient"))
        let missing = try await cli.run(["keys", "encrypt", "-r", recipient, "-o", other, directory.appendingPathComponent("absent").path])
        #expect(missing.status == 1 && missing.stderr.contains("cannot open"))
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
