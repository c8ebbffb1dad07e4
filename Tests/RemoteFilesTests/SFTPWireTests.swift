import CurlSupport
import Foundation
@testable import RemoteFiles
import Testing

/// The SFTP packets: what is sent is well-formed, and what a broken or hostile server sends is
/// refused as a protocol error (never a crash, never an allocation it chose). The "servers" here
/// are shell scripts in place of ssh, printing fixed bytes.
@Suite("SFTP wire")
struct SFTPWireTests {
    @Test func aPacketCarriesItsLengthTypeAndFields() throws {
        var writer = SFTPPacketWriter(.open, id: 7)
        writer.append(string: "/srv/ü")
        writer.append(UInt32(0x1A))
        writer.appendNoAttributes()
        let bytes = writer.finish()
        #expect(Array(bytes[0..<4]) == [0, 0, 0, UInt8(bytes.count - 4)])
        #expect(bytes[4] == SFTPMessage.open.rawValue)
        var reader = SFTPPacketReader(bytes[5...])
        #expect(try reader.uint32() == 7)
        #expect(try reader.string() == "/srv/ü")
        #expect(try reader.uint32() == 0x1A)
        #expect(try reader.attributes() == SFTPAttributes())
        #expect(reader.remaining == 0)
        // The length covers data sent after the head, as a WRITE sends it.
        var write = SFTPPacketWriter(.write, id: 1)
        #expect(write.finish(trailing: 65536)[0..<4] == [0, 1, 0, 5])
    }

    @Test func attributesKeepTheSizeAndTheFileType() throws {
        // flags SIZE|UIDGID|PERMISSIONS|ACMODTIME|EXTENDED, size 2^33, uid, gid, 040755, times, one extension pair.
        var bytes: [UInt8] = [0x80, 0, 0, 0x0F, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x41, 0xED, 0, 0, 0, 3, 0, 0, 0, 4]
        bytes += [0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x62]
        var reader = SFTPPacketReader(bytes[...])
        let attributes = try reader.attributes()
        #expect(attributes.size == 1 << 33)
        #expect(attributes.isDirectory)
        #expect(reader.remaining == 0)
    }

    @Test(arguments: [
        // A string that claims more bytes than the packet holds.
        [0, 0, 0, 0xFF, 0x61],
        // An integer cut short.
        [0, 0],
        // Attributes announcing a billion extension pairs in a few bytes.
        [0x80, 0, 0, 0, 0x3B, 0x9A, 0xCA, 0x00, 0, 0, 0, 0],
    ] as [[UInt8]])
    func truncatedOrLyingFieldsAreRefused(bytes: [UInt8]) {
        var reader = SFTPPacketReader(bytes[...])
        #expect(throws: SFTPProtocolError.self) {
            _ = try reader.string()
            _ = try reader.attributes()
        }
        var attributes = SFTPPacketReader(bytes[...])
        #expect(throws: SFTPProtocolError.self) { _ = try attributes.attributes() }
    }

    /// VERSION 3 with no extensions.
    static let version = #"\000\000\000\005\002\000\000\000\003"#

    @Test func aReplyLongerThanAnyPacketIsRefused() throws {
        let failure = channelFailure(serverPrints: #"\377\377\377\377"#)
        #expect(failure?.contains("at most") == true, "\(String(describing: failure))")
    }

    @Test func aFirstReplyThatIsNotVersionIsRefused() throws {
        let failure = channelFailure(serverPrints: #"\000\000\000\005\145\000\000\000\001"#)
        #expect(failure?.contains("not VERSION") == true, "\(String(describing: failure))")
    }

    @Test func anExtensionNameLongerThanItsPacketIsRefused() throws {
        let failure = channelFailure(serverPrints: #"\000\000\000\013\002\000\000\000\003\000\000\377\377\141\141"#)
        #expect(failure?.contains("longer than the reply") == true, "\(String(describing: failure))")
    }

    @Test func aServerThatEndsBeforeVersionIsASetupFailure() throws {
        let ssh = try SSHProcess(ssh: "/bin/sh", arguments: ["-c", "echo 'user@host: Permission denied (publickey).' >&2; exit 255"], environment: [:], stallTimeout: .seconds(10))
        #expect {
            _ = try SFTPChannel(ssh: ssh, cancellation: CancellationFlag())
        } throws: { error in
            guard case SFTPFailure.sshEnded(let status, let stderr) = error else { return false }
            return status == 255 && stderr.contains("Permission denied")
        }
    }

    @Test func aReplyToAnotherRequestBreaksTheChannel() throws {
        // VERSION, then ATTRS for request 99 where 1 was asked.
        let ssh = try fakeServer(prints: Self.version + #"\000\000\000\011\151\000\000\000\143\000\000\000\000"#)
        let channel = try SFTPChannel(ssh: ssh, cancellation: CancellationFlag())
        #expect {
            _ = try channel.attributes(of: "/x", cancellation: CancellationFlag())
        } throws: { error in
            guard case SFTPFailure.protocolViolation(let what) = error else { return false }
            return what.contains("99")
        }
        #expect(channel.isBroken)
        channel.close()
    }

    @Test func aCancelledWaitStopsAndBreaksTheChannel() throws {
        let ssh = try fakeServer(prints: Self.version)
        let channel = try SFTPChannel(ssh: ssh, cancellation: CancellationFlag())
        let flag = CancellationFlag()
        flag.raise()
        #expect {
            _ = try channel.attributes(of: "/x", cancellation: flag)
        } throws: { error in
            if case SFTPFailure.cancelled = error { return true }
            return false
        }
        #expect(channel.isBroken)
        channel.close()
    }

    @Test func aServerAnsweringEveryReadWithNoDataEndsTheRead() throws {
        // VERSION, then an empty DATA reply to each of the 64 READs in flight (ids 1 to 64): the
        // read ends at the first, and neither loops for ever nor waits for a stall.
        let replies = (1...64).map { #"\000\000\000\011\147\000\000\000\"# + String($0, radix: 8).leftPadded(to: 3) + #"\000\000\000\000"# }.joined()
        let channel = try SFTPChannel(ssh: try fakeServer(prints: Self.version + replies), cancellation: CancellationFlag())
        let bytes = try channel.read(Array("h".utf8), cancellation: CancellationFlag()) { _ throws(SFTPFailure) in }
        #expect(bytes == 0)
        #expect(!channel.isBroken)
        channel.close()
    }

    @Test func theFingerprintIsTheOneSSHKeygenPrints() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fingerprint-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for type in ["ed25519", "ecdsa", "rsa"] {
            try run("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-f", "\(directory)/\(type)"])
            let keygen = try run("/usr/bin/ssh-keygen", ["-lf", "\(directory)/\(type).pub", "-E", "sha256"]).split(separator: " ")[1]
            let blob = try String(contentsOfFile: "\(directory)/\(type).pub", encoding: .utf8).split(separator: " ")[1]
            #expect(SSHCommand.fingerprint(ofBase64: String(blob)) == String(keygen), "\(type)")
        }
        #expect(SSHCommand.fingerprint(ofBase64: "not base64!") == nil)
        #expect(SSHCommand.algorithms(for: "ssh-rsa") == "rsa-sha2-512,rsa-sha2-256")
    }

    // MARK: - Helpers

    /// A stand-in for ssh that prints `bytes` (printf escapes) and then waits for its input to close.
    private func fakeServer(prints bytes: String) throws -> SSHProcess {
        try SSHProcess(ssh: "/bin/sh", arguments: ["-c", "printf '\(bytes)'; cat >/dev/null"], environment: [:], stallTimeout: .seconds(10))
    }

    /// The protocol violation setting up a channel to such a server reports, if any.
    private func channelFailure(serverPrints bytes: String) -> String? {
        do {
            let channel = try SFTPChannel(ssh: try fakeServer(prints: bytes), cancellation: CancellationFlag())
            channel.close()
            return nil
        } catch SFTPFailure.protocolViolation(let what) {
            return what
        } catch {
            return "another failure: \(error)"
        }
    }

    /// Runs a tool to its end and returns its standard output (posix_spawn and waitpid, which
    /// need no run loop on this thread).
    @discardableResult
    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { throw POSIXError(.ENOENT) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return try String(contentsOfFile: output, encoding: .utf8)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
