import Crypto
import Foundation

/// Encrypts a stream to age recipients in constant memory: the header and payload nonce are
/// handed to `output` at once, then one sealed chunk per 64 KiB written. `finish()` seals the
/// last chunk; a stream never finished is not a valid age file (the last flag is missing).
package final class AgeEncryptor {
    private var payload: AgePayload
    private var pending: [UInt8] = []
    private let output: (Data) throws -> Void
    private var finished = false

    package init(recipients: [AgeRecipient], output: @escaping (Data) throws -> Void) throws {
        guard !recipients.isEmpty else { throw AgeError("no recipient to encrypt to") }
        let fileKey = SymmetricKey(size: .init(bitCount: 128))
        var nonce = [UInt8](repeating: 0, count: AgePayload.nonceSize)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        payload = AgePayload(fileKey: fileKey, nonce: nonce)
        self.output = output
        pending.reserveCapacity(AgePayload.chunkSize)
        try output(Data(try AgeHeader.encode(fileKey: fileKey, recipients: recipients) + nonce))
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        var offset = 0
        while offset < bytes.count {
            // A full chunk is sealed only once more data arrives: until then it may be the last.
            if pending.count == AgePayload.chunkSize {
                try output(try payload.seal(pending[...], last: false))
                pending.removeAll(keepingCapacity: true)
            }
            let take = min(AgePayload.chunkSize - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
        }
    }

    package func write(_ data: some DataProtocol) throws {
        for region in data.regions { try region.withUnsafeBytes { try write($0) } }
    }

    package func finish() throws {
        precondition(!finished, "finish twice")
        finished = true
        try output(try payload.seal(pending[...], last: true))
        pending = []
    }

    /// The ciphertext size of a plaintext of `size` bytes, given the header's size.
    package static func payloadSize(plaintext size: Int64) -> Int64 {
        let chunks = max(1, (size + Int64(AgePayload.chunkSize) - 1) / Int64(AgePayload.chunkSize))
        return Int64(AgePayload.nonceSize) + size + chunks * Int64(AgePayload.tagSize)
    }
}

extension AgeEncryptor {
    /// The size of the whole age file (header, nonce, payload) for `size` bytes of plaintext
    /// encrypted to `recipients`: every X25519 stanza has the same length, so it is known
    /// before encrypting, which an upload that states its size needs.
    package static func fileSize(plaintext size: Int64, recipients: [AgeRecipient]) throws -> Int64 {
        let header = try AgeHeader.encode(fileKey: SymmetricKey(size: .init(bitCount: 128)), recipients: recipients)
        return Int64(header.count) + payloadSize(plaintext: size)
    }
}
