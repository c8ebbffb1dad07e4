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
}
