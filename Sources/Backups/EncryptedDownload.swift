import AgeEncryption
import Crypto
import Foundation
import RemoteFiles

/// Brings one file of an encrypted copy back decrypted: the stored `.age` file is read once,
/// its ciphertext hashed against `encryption.json` and decrypted on the way into a new local
/// file (0600, synced), whose plaintext is hashed against the index too. age authenticates
/// every chunk and the end, so a flipped or missing byte fails here, naming the file.
enum EncryptedDownload {
    static func fetch(
        _ file: EncryptedCopyIndex.StoredFile, from directory: String, to localPath: String, identities: [AgeIdentity], session: any RemoteFileSession
    ) async throws {
        let remote = directory + "/" + file.path
        let sink = try DecryptingSink(path: localPath, identities: identities)
        var kept = false
        defer { if !kept { sink.discard() } }
        do {
            _ = try await session.read(remote) { chunk in try sink.write(chunk) }
        } catch {
            if let failure = sink.decryptionFailure { throw BackupError("cannot decrypt \(remote): \(failure)") }
            throw error
        }
        try sink.finish(remote: remote)
        let result = sink.result
        guard result.ciphertextBytes == file.bytes, result.ciphertextSHA256 == file.sha256 else {
            throw BackupError("\(remote) is corrupt: its size or SHA-256 differs from \(EncryptedCopyIndex.fileName)")
        }
        guard result.plaintextBytes == file.plaintextBytes, result.plaintextSHA256 == file.plaintextSHA256 else {
            throw BackupError("\(remote) decrypts to other data than \(EncryptedCopyIndex.fileName) records")
        }
        kept = true
    }
}

/// Decrypts into a local file, hashing both sides.
///
/// `@unchecked Sendable`: written only on the thread running the transfer; read after the
/// awaiting task resumed from it, which orders the two.
private final class DecryptingSink: @unchecked Sendable {
    private let path: String
    private let descriptor: Int32
    private var decryptor: AgeDecryptor!
    private var ciphertextHasher = SHA256()
    private var plaintextHasher = SHA256()
    private var ciphertextBytes: Int64 = 0
    private var plaintextBytes: Int64 = 0
    private(set) var decryptionFailure: AgeError?
    private var closed = false

    init(path: String, identities: [AgeIdentity]) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BackupError("cannot create \(path): \(String(cString: strerror(errno)))") }
        decryptor = AgeDecryptor(identities: identities) { [unowned self] plaintext in try self.store(plaintext) }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        ciphertextHasher.update(bufferPointer: chunk)
        ciphertextBytes += Int64(chunk.count)
        do {
            try decryptor.write(chunk)
        } catch let error as AgeError {
            decryptionFailure = error
            throw error
        }
    }

    func finish(remote: String) throws {
        do {
            try decryptor.finish()
        } catch let error as AgeError {
            throw BackupError("cannot decrypt \(remote): \(error)")
        }
        guard fsync(descriptor) == 0 else { throw BackupError("cannot sync \(path): \(String(cString: strerror(errno)))") }
        closeOnce()
    }

    var result: (ciphertextBytes: Int64, ciphertextSHA256: String, plaintextBytes: Int64, plaintextSHA256: String) {
        (ciphertextBytes, FileDigest.hex(ciphertextHasher.finalize()), plaintextBytes, FileDigest.hex(plaintextHasher.finalize()))
    }

    func discard() {
        closeOnce()
        unlink(path)
    }

    private func closeOnce() {
        if !closed { close(descriptor) }
        closed = true
    }

    private func store(_ plaintext: Data) throws {
        plaintextHasher.update(data: plaintext)
        plaintextBytes += Int64(plaintext.count)
        try plaintext.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw BackupError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
    }
}
