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
        let chunk = AgePayload.chunkSize
        var offset = 0
        while offset < bytes.count {
            // A full chunk is sealed only once more data arrives: until then it may be the last.
            if pending.count == chunk {
                try output(try payload.seal(pending, last: false))
                pending.removeAll(keepingCapacity: true)
            }
            // Whole chunks with more bytes after them are sealed straight from the caller's
            // buffer; only a chunk that may be the last is kept back in `pending`.
            if pending.isEmpty && bytes.count - offset > chunk {
                try output(try payload.seal(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + chunk]), last: false))
                offset += chunk
                continue
            }
            let take = min(chunk - pending.count, bytes.count - offset)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take]))
            offset += take
        }
    }

    package func write(_ data: some DataProtocol) throws {
        for region in data.regions { try region.withUnsafeBytes { try write($0) } }
    }

    /// Seals `bytes` as the next chunk, for a caller that chunks the plaintext itself (no copy
    /// into `pending`): exactly a chunk, or, when `last`, at most one; `last` also finishes.
    package func writeChunk(_ bytes: UnsafeRawBufferPointer, last: Bool) throws {
        precondition(!finished && pending.isEmpty, "writeChunk after finish or beside write")
        precondition(last ? bytes.count <= AgePayload.chunkSize : bytes.count == AgePayload.chunkSize, "not a whole chunk")
        try output(try payload.seal(bytes, last: last))
        if last {
            finished = true
            pending = []
        }
    }

    package func finish() throws {
        precondition(!finished, "finish twice")
        finished = true
        try output(try payload.seal(pending, last: true))
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
