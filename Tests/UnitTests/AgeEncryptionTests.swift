@testable import AgeEncryption
import Foundation
import Testing

/// The age v1 format against itself and against the standard `age` tool (which scripts/test
/// installs): files we write decrypt with `age -d`, files `age` writes decrypt here, and any
/// change to a file, a wrong identity or a cut-off stream is refused.
@Suite("age encryption")
struct AgeEncryptionTests {
    static let chunk = AgePayload.chunkSize
    /// Sizes around every boundary of the chunking: empty, one byte, a chunk ± 1, several chunks.
    static let sizes = [0, 1, 100, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 17]

    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        var state = UInt32(seed) &* 2_654_435_761
        return (0..<count).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(truncatingIfNeeded: state >> 24) }
    }

    static func encrypt(_ plaintext: [UInt8], to recipients: [AgeRecipient], pieces: Int = 7_000) throws -> [UInt8] {
        var out: [UInt8] = []
        let encryptor = try AgeEncryptor(recipients: recipients) { out.append(contentsOf: $0) }
        var offset = 0
        while offset < plaintext.count {
            let end = min(plaintext.count, offset + pieces)
            try plaintext[offset..<end].withUnsafeBytes { try encryptor.write($0) }
            offset = end
        }
        try encryptor.finish()
        return out
    }

    static func decrypt(_ ciphertext: [UInt8], with identities: [AgeIdentity], pieces: Int = 5_000) throws -> [UInt8] {
        var out: [UInt8] = []
        let decryptor = AgeDecryptor(identities: identities) { out.append(contentsOf: $0) }
        var offset = 0
        while offset < ciphertext.count {
            let end = min(ciphertext.count, offset + pieces)
            try ciphertext[offset..<end].withUnsafeBytes { try decryptor.write($0) }
            offset = end
        }
        try decryptor.finish()
        return out
    }

    static func run(_ tool: String, _ arguments: [String], input: URL? = nil) throws -> (status: Int32, output: Data, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        if let input { process.standardInput = try FileHandle(forReadingFrom: input) }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        while process.isRunning { usleep(5_000) }
        return (process.terminationStatus, data, complaint)
    }

    static func temporary() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("age-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func roundTripsAtEveryChunkBoundaryToSeveralRecipients() throws {
        let first = AgeIdentity.generate(), second = AgeIdentity.generate()
        for size in Self.sizes {
            let plaintext = Self.bytes(size)
            let ciphertext = try Self.encrypt(plaintext, to: [first.recipient, second.recipient])
            let header = String(decoding: ciphertext.prefix(21), as: UTF8.self)
            #expect(header == "age-encryption.org/v1")
            let chunks = max(1, (size + Self.chunk - 1) / Self.chunk)
            #expect(Int64(ciphertext.count - (ciphertext.count - size - 16 * chunks - 16)) - Int64(size) == AgeEncryptor.payloadSize(plaintext: Int64(size)) - Int64(size))
            #expect(try Self.decrypt(ciphertext, with: [first]) == plaintext, "size \(size)")
            #expect(try Self.decrypt(ciphertext, with: [AgeIdentity.generate(), second], pieces: 1 + size / 3) == plaintext, "size \(size)")
            // Written in one piece: whole chunks are sealed straight from the caller's buffer.
            let whole = try Self.encrypt(plaintext, to: [first.recipient], pieces: max(1, size))
            #expect(try Self.decrypt(whole, with: [first]) == plaintext, "one write of \(size)")
        }
    }

    @Test func keysRoundTripThroughTheirTextAndTheIdentityFile() throws {
        let identity = AgeIdentity.generate()
        #expect(identity.recipient.description.hasPrefix("age1"))
        #expect(identity.secretText.hasPrefix("AGE-SECRET-KEY-1"))
        #expect(try AgeRecipient(identity.recipient.description) == identity.recipient)
        #expect(try AgeIdentity(identity.secretText).recipient == identity.recipient)
        let parsed = try AgeIdentity.parseFile(identity.fileText())
        #expect(parsed.map(\.recipient) == [identity.recipient])
        #expect(identity.fileText().contains("# public key: \(identity.recipient)"))
        // A typo in the checksum, the wrong kind of key, mixed case: refused.
        var typo = Array(identity.recipient.description)
        typo[10] = typo[10] == "q" ? "p" : "q"
        #expect(throws: AgeError.self) { try AgeRecipient(String(typo)) }
        #expect(throws: AgeError.self) { try AgeRecipient(identity.secretText) }
        #expect(throws: AgeError.self) { try AgeIdentity(identity.recipient.description) }
        #expect(throws: AgeError.self) { try AgeRecipient("Age1" + identity.recipient.description.dropFirst(4)) }
        // A bad line is named by number, never echoed.
        // The last character changed to another of the alphabet: the checksum no longer matches.
        let broken = "# comment\n\(identity.secretText.dropLast())\(identity.secretText.last == "Q" ? "P" : "Q")\n"
        let error = try #require(throws: AgeError.self) { try AgeIdentity.parseFile(broken) }
        #expect(error.description.contains("line 2") && !error.description.contains(identity.secretText.prefix(24)))
        #expect(throws: AgeError.self) { try AgeIdentity.parseFile("# only a comment\n") }
        // Printed, logged or reflected, an identity shows its recipient, never its key.
        for text in [String(describing: identity), String(reflecting: identity), "\(parsed)", String(describing: Mirror(reflecting: identity).children.map(\.value))] {
            #expect(!text.contains(identity.secretText) && text.contains(identity.recipient.description), "\(text)")
        }
    }

    @Test func filesWrittenHereDecryptWithTheAgeTool() throws {
        let directory = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: directory) }
        let identity = AgeIdentity.generate()
        let identityFile = directory.appendingPathComponent("key.txt")
        try identity.fileText().write(to: identityFile, atomically: true, encoding: .utf8)
        for size in [0, Self.chunk, 2 * Self.chunk + 5] {
            let plaintext = Self.bytes(size, seed: 3)
            let file = directory.appendingPathComponent("f\(size).age")
            try Data(try Self.encrypt(plaintext, to: [identity.recipient, AgeIdentity.generate().recipient], pieces: max(1, size))).write(to: file)
            let result = try Self.run("/usr/bin/age", ["--decrypt", "--identity", identityFile.path, file.path])
            #expect(result.status == 0, "\(result.errors)")
            #expect(Array(result.output) == plaintext, "size \(size)")
        }
        // age-keygen derives the same recipient from our identity.
        let derived = try Self.run("/usr/bin/age-keygen", ["-y", identityFile.path])
        #expect(String(decoding: derived.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == identity.recipient.description)
    }

    @Test func filesTheAgeToolWritesDecryptHere() throws {
        let directory = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: directory) }
        let identityFile = directory.appendingPathComponent("key.txt")
        let generated = try Self.run("/usr/bin/age-keygen", ["-o", identityFile.path])
        #expect(generated.status == 0, "\(generated.errors)")
        let identities = try AgeIdentity.parseFile(try String(contentsOf: identityFile, encoding: .utf8))
        let recipient = String(decoding: try Self.run("/usr/bin/age-keygen", ["-y", identityFile.path]).output, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(identities.map(\.recipient.description) == [recipient])
        for size in [0, 1, Self.chunk, 3 * Self.chunk + 1] {
            let plain = directory.appendingPathComponent("p\(size)")
            try Data(Self.bytes(size, seed: 9)).write(to: plain)
            let result = try Self.run("/usr/bin/age", ["--encrypt", "--recipient", recipient, plain.path])
            #expect(result.status == 0, "\(result.errors)")
            #expect(try Self.decrypt(Array(result.output), with: identities) == Self.bytes(size, seed: 9), "size \(size)")
        }
    }

    @Test func aWrongIdentityAnAlteredByteOrACutOffStreamIsRefused() throws {
        let identity = AgeIdentity.generate()
        let plaintext = Self.bytes(2 * Self.chunk + 100)
        let ciphertext = try Self.encrypt(plaintext, to: [identity.recipient])
        #expect(throws: AgeError.noMatchingIdentity) { try Self.decrypt(ciphertext, with: [AgeIdentity.generate()]) }

        let headerEnd = try #require(try AgeHeader.parse(ciphertext[...])).length
        // A flipped bit anywhere: in a stanza body, the MAC, the payload nonce, a chunk, the last tag.
        for position in [40, headerEnd - 5, headerEnd + 3, headerEnd + 16 + 1000, headerEnd + 16 + Self.chunk + 16 + 7, ciphertext.count - 1] {
            var altered = ciphertext
            altered[position] ^= 0x01
            #expect(throws: AgeError.self, "byte \(position)") { try Self.decrypt(altered, with: [identity]) }
        }
        // Cut at a chunk boundary (the stream then ends on a chunk not marked last), mid-chunk, in the header.
        let firstChunkEnd = headerEnd + 16 + Self.chunk + 16
        for length in [firstChunkEnd, firstChunkEnd + 100, headerEnd + 10, 30] {
            #expect(throws: AgeError.self, "length \(length)") { try Self.decrypt(Array(ciphertext.prefix(length)), with: [identity]) }
        }
        // Trailing garbage after the last chunk.
        #expect(throws: AgeError.self) { try Self.decrypt(ciphertext + [1, 2, 3], with: [identity]) }
        // Swapping two chunks.
        let sealed = Self.chunk + 16
        let body = headerEnd + 16
        var swapped = ciphertext
        swapped.replaceSubrange(body..<body + 2 * sealed, with: ciphertext[body + sealed..<body + 2 * sealed] + ciphertext[body..<body + sealed])
        #expect(throws: AgeError.payloadTampered) { try Self.decrypt(swapped, with: [identity]) }
        // Not an age file at all.
        let notAge = try #require(throws: AgeError.self) { try Self.decrypt(Array("PGDMP custom dump".utf8), with: [identity]) }
        #expect(notAge.description.contains("not an age v1 file"))
    }

    @Test func theAgeToolRejectsWhatWeRejectAndAcceptsWhatWeWrite() throws {
        // A truncated file of ours is refused by age too: the last-chunk flag is what both check.
        let directory = try Self.temporary()
        defer { try? FileManager.default.removeItem(at: directory) }
        let identity = AgeIdentity.generate()
        let identityFile = directory.appendingPathComponent("key.txt")
        try identity.fileText().write(to: identityFile, atomically: true, encoding: .utf8)
        let ciphertext = try Self.encrypt(Self.bytes(2 * Self.chunk), to: [identity.recipient])
        let headerEnd = try #require(try AgeHeader.parse(ciphertext[...])).length
        let cut = directory.appendingPathComponent("cut.age")
        try Data(ciphertext.prefix(headerEnd + 16 + Self.chunk + 16)).write(to: cut)
        let result = try Self.run("/usr/bin/age", ["--decrypt", "--identity", identityFile.path, cut.path])
        #expect(result.status != 0)
    }

    @Test func theEncryptingReaderServesAFileOfTheAnnouncedSizeInAnyReadSize() throws {
        let identity = AgeIdentity.generate()
        for recipients in [[identity.recipient], [identity.recipient, AgeIdentity.generate().recipient, AgeIdentity.generate().recipient]] {
            // The source hands out odd-sized pieces (or fills whatever it is given), the reader is read in others.
            for (size, sourcePiece) in (Self.sizes + [40 * Self.chunk + 3]).flatMap({ [($0, 5_001), ($0, Int.max)] }) {
                let plaintext = Self.bytes(size, seed: 11)
                var offset = 0
                let reader = try AgeEncryptingReader(recipients: recipients) { buffer in
                    let count = min(buffer.count, sourcePiece, plaintext.count - offset)
                    buffer.copyBytes(from: plaintext[offset..<offset + count])
                    offset += count
                    return count
                }
                var ciphertext: [UInt8] = []
                var piece = [UInt8](repeating: 0, count: 3_333)
                while true {
                    let count = try piece.withUnsafeMutableBytes { try reader.read(into: $0) }
                    if count == 0 { break }
                    ciphertext += piece[0..<count]
                }
                #expect(Int64(ciphertext.count) == (try AgeEncryptor.fileSize(plaintext: Int64(size), recipients: recipients)), "size \(size)")
                #expect(try Self.decrypt(ciphertext, with: [identity]) == plaintext, "size \(size), source pieces \(sourcePiece)")
            }
        }
    }
}
