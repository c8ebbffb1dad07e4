import Crypto
import Foundation

/// age's STREAM: the payload in 64 KiB chunks, each sealed with ChaCha20-Poly1305 under a key
/// derived from the file key and a random 16-byte nonce; a chunk's nonce is its 11-byte
/// big-endian counter and a flag that is 1 on the last chunk only, so chunks cannot be
/// reordered, dropped or cut off at a chunk boundary without failing authentication.
struct AgePayload {
    static let chunkSize = 64 * 1024
    static let tagSize = 16
    static let nonceSize = 16

    private let key: SymmetricKey
    private(set) var counter: UInt64 = 0

    init(fileKey: SymmetricKey, nonce: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: nonce, info: Array("payload".utf8), outputByteCount: 32)
    }

    /// The sealed chunk: ciphertext and tag, a slice of the box's own storage (nothing copied).
    mutating func seal(_ plaintext: some DataProtocol, last: Bool) throws -> Data {
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: try nextNonce(last: last))
        // `combined` is nonce ‖ ciphertext ‖ tag in one buffer; age stores no nonce.
        return box.combined.dropFirst(12)
    }

    mutating func open(_ chunk: ArraySlice<UInt8>, last: Bool) throws -> Data {
        let nonce = try nextNonce(last: last)
        guard chunk.count >= Self.tagSize,
              let box = try? ChaChaPoly.SealedBox(nonce: nonce, ciphertext: chunk.dropLast(Self.tagSize), tag: chunk.suffix(Self.tagSize)),
              let plaintext = try? ChaChaPoly.open(box, using: key) else {
            throw AgeError.payloadTampered
        }
        return plaintext
    }

    private mutating func nextNonce(last: Bool) throws -> ChaChaPoly.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[3 + index] = UInt8(truncatingIfNeeded: counter >> (8 * (7 - index))) }
        bytes[11] = last ? 1 : 0
        counter += 1
        return try ChaChaPoly.Nonce(data: bytes)
    }
}
