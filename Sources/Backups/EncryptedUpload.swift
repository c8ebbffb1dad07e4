import AgeEncryption
import Crypto
import Foundation
import RemoteFiles

/// Sends one file of a backup to a repository encrypted to age recipients, as `<path>.age`:
/// the plaintext is read, encrypted and hashed (both sides) while the transfer pulls the bytes, so
/// the ciphertext never touches the local disk and memory stays constant. The plaintext's
/// SHA-256 must still be the manifest's: a file that changed since its verification is not
/// sent as if it were the backup.
enum EncryptedUpload {
    static func send(
        _ file: BackupManifest.FileRecord, under root: String, to directory: String, recipients: [AgeRecipient],
        session: any RemoteFileSession, maxBytesPerSecond: Int64?
    ) async throws -> EncryptedCopyIndex.StoredFile {
        let plaintext = try PlaintextFile(file.path, under: root)
        let source = try EncryptingSource(recipients: recipients, plaintext: plaintext.read)
        let stored = try await source.send(plaintextBytes: file.bytes, to: directory + "/" + EncryptedCopyIndex.storedPath(of: file.path), session: session, rate: maxBytesPerSecond)
        plaintext.close()
        return try checked(stored, against: file, under: root)
    }

    private static func checked(
        _ stored: (bytes: Int64, sha256: String, plaintextBytes: Int64, plaintextSHA256: String), against file: BackupManifest.FileRecord, under root: String
    ) throws -> EncryptedCopyIndex.StoredFile {
        guard stored.plaintextBytes == file.bytes, stored.plaintextSHA256 == file.sha256 else {
            throw BackupError("\(root)/\(file.path) no longer matches the manifest (it changed since the backup was verified); it was not copied")
        }
        return EncryptedCopyIndex.StoredFile(
            path: EncryptedCopyIndex.storedPath(of: file.path), bytes: stored.bytes, sha256: stored.sha256,
            plaintextBytes: stored.plaintextBytes, plaintextSHA256: stored.plaintextSHA256
        )
    }

    /// `data` (the manifest) encrypted to `<path>.age` under `directory`.
    static func send(
        _ data: Data, as path: String, to directory: String, recipients: [AgeRecipient], session: any RemoteFileSession, maxBytesPerSecond: Int64?
    ) async throws -> EncryptedCopyIndex.StoredFile {
        let source = try EncryptingSource(recipients: recipients, plaintext: DataProducer(data).produce)
        let stored = try await source.send(plaintextBytes: Int64(data.count), to: directory + "/" + EncryptedCopyIndex.storedPath(of: path), session: session, rate: maxBytesPerSecond)
        return EncryptedCopyIndex.StoredFile(
            path: EncryptedCopyIndex.storedPath(of: path), bytes: stored.bytes, sha256: stored.sha256,
            plaintextBytes: stored.plaintextBytes, plaintextSHA256: stored.plaintextSHA256
        )
    }
}

/// A backup file opened for reading beneath its root (no links followed); closed at the end
/// or when dropped.
///
/// `@unchecked Sendable`: read only by the read-ahead thread, closed after it was joined.
private final class PlaintextFile: @unchecked Sendable {
    private let descriptor: Int32
    private let shown: String
    private var closed = false

    init(_ relative: String, under root: String) throws {
        descriptor = try BackupFileOpener.open(relative, under: root).descriptor
        shown = root + "/" + relative
    }

    deinit { close() }

    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Foundation.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw BackupError("cannot read \(shown): \(String(cString: strerror(errno)))") }
        }
    }

    func close() {
        if !closed { _ = Foundation.close(descriptor) }
        closed = true
    }
}

/// The producer behind one encrypted upload: plaintext in, age file out, both hashed.
///
/// `@unchecked Sendable`: the reader and the hashers are used by the read-ahead thread alone,
/// and read here only after it was joined, which orders them.
private final class EncryptingSource: @unchecked Sendable {
    private let recipients: [AgeRecipient]
    private var reader: AgeEncryptingReader!
    private var plaintextHasher = SHA256()
    private var ciphertextHasher = SHA256()
    private var plaintextBytes: Int64 = 0

    init(recipients: [AgeRecipient], plaintext: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        self.recipients = recipients
        reader = try AgeEncryptingReader(recipients: recipients) { [unowned self] buffer in
            let count = try plaintext(buffer)
            plaintextHasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            plaintextBytes += Int64(count)
            return count
        }
    }

    // Never inlined: inlined into its async callers, Swift 6.3's optimizer crashes while
    // splitting them into coroutines (release builds).
    @inline(never)
    func send(plaintextBytes expected: Int64, to path: String, session: any RemoteFileSession, rate: Int64?)
        async throws -> (bytes: Int64, sha256: String, plaintextBytes: Int64, plaintextSHA256: String)
    {
        let size = try AgeEncryptor.fileSize(plaintext: expected, recipients: recipients)
        // Reading, hashing and encrypting run on a thread of their own, ahead of the transfer's
        // thread (which spends its time in SSH's or TLS's encryption): two cores instead of one.
        let ahead = ReadAhead(name: "age-encrypt") { [self] buffer in
            let count = try reader.read(into: buffer)
            ciphertextHasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            return count
        }
        let bytes: Int64
        do {
            bytes = try await session.upload(size: size, to: path, maxBytesPerSecond: rate, progress: nil) { buffer in try ahead.read(into: buffer) }
        } catch {
            ahead.close()
            throw error
        }
        // Joined: the hashes the producer thread kept are complete and visible here.
        ahead.close()
        return (bytes, FileDigest.hex(ciphertextHasher.finalize()), plaintextBytes, FileDigest.hex(plaintextHasher.finalize()))
    }
}
