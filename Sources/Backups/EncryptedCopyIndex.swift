import Foundation

/// `encryption.json` in an encrypted copy: the only file stored in the clear. It lists every
/// file of the copy as stored (`<path>.age`, the manifest included as `manifest.json.age`) with
/// the size and SHA-256 of its ciphertext and of the plaintext it decrypts to, and the age
/// recipients it was encrypted to (public keys). Its own SHA-256 is in the catalog, so a host
/// without the private key proves the copy by reading every stored byte back against it; a
/// restore decrypts and checks the plaintext against the manifest as well.
package struct EncryptedCopyIndex: Sendable, Codable, Equatable {
    package static let fileName = "encryption.json"
    /// The suffix of every encrypted file: `age -d` is all a person needs to read one.
    package static let suffix = ".age"
    package static let currentFormat = 1
    package static let cipherName = "age-v1-x25519"
    /// An index larger than this is refused unread (one line per file of a backup).
    static let sizeLimit = 16 * 1024 * 1024

    package var format: Int
    package var cipher: String
    package var recipients: [String]
    /// Sorted by path; `manifest.json.age` among them.
    package var files: [StoredFile]

    package struct StoredFile: Sendable, Codable, Equatable {
        /// The stored name, relative to the copy's directory (the backup's path and `.age`).
        package var path: String
        package var bytes: Int64
        package var sha256: String
        package var plaintextBytes: Int64
        package var plaintextSHA256: String

        // Spelled so that the snake-case key strategy writes and reads `plaintext_sha256`.
        enum CodingKeys: String, CodingKey {
            case path, bytes, sha256, plaintextBytes, plaintextSHA256 = "plaintextSha256"
        }

        package init(path: String, bytes: Int64, sha256: String, plaintextBytes: Int64, plaintextSHA256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
            self.plaintextBytes = plaintextBytes
            self.plaintextSHA256 = plaintextSHA256
        }

        /// The backup file it decrypts to.
        package var plaintextPath: String { String(path.dropLast(EncryptedCopyIndex.suffix.count)) }
        /// As the copy checks read it back: the stored bytes and their hash.
        var stored: BackupManifest.FileRecord { .init(path: path, bytes: bytes, sha256: sha256) }
    }

    package init(recipients: [String], files: [StoredFile]) {
        format = Self.currentFormat
        cipher = Self.cipherName
        self.recipients = recipients
        self.files = files.sorted { $0.path < $1.path }
    }

    package static func storedPath(of plaintextPath: String) -> String { plaintextPath + suffix }

    package func encoded() throws -> Data { try BackupManifest.encoder.encode(self) }

    /// Decodes and checks what a restore relies on: the format, the cipher, and paths that stay
    /// inside the copy (every one ends in `.age`, none climbs out with `..`).
    package static func decode(_ data: Data) throws -> EncryptedCopyIndex {
        let index: EncryptedCopyIndex
        do {
            index = try BackupManifest.decoder.decode(EncryptedCopyIndex.self, from: data)
        } catch {
            throw BackupError("\(fileName) is not a valid index of an encrypted copy: \(error)")
        }
        guard index.format == currentFormat, index.cipher == cipherName else {
            throw BackupError("\(fileName) has format \(index.format) and cipher \(index.cipher.debugDescription); this version reads format \(currentFormat), \(cipherName)")
        }
        for file in index.files {
            let components = file.path.split(separator: "/", omittingEmptySubsequences: false)
            guard file.path.hasSuffix(suffix), !file.path.hasPrefix("/"), !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
                  file.bytes >= 0, file.plaintextBytes >= 0 else {
                throw BackupError("\(fileName) lists a file that cannot be part of a copy: \(file.path.debugDescription)")
            }
        }
        guard index.files.contains(where: { $0.path == storedPath(of: BackupManifest.fileName) }) else {
            throw BackupError("\(fileName) does not list \(storedPath(of: BackupManifest.fileName))")
        }
        return index
    }
}
