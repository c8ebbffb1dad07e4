import Crypto
import Foundation

/// Decrypts an age stream in constant memory with the identities of an identity file: feed it
/// the ciphertext in pieces of any size, and `finish()` at the end, which fails unless the last
/// chunk arrived (a truncated file never passes). Plaintext goes to `output` chunk by chunk, so
/// a caller that must not act on unauthenticated data waits for `finish()` before trusting it.
package final class AgeDecryptor {
    private let identities: [AgeIdentity]
    private let output: (Data) throws -> Void
    private var buffer: [UInt8] = []
    private var start = 0
    private var payload: AgePayload?
    private var fileKey: SymmetricKey?
    private var chunks = 0

    package init(identities: [AgeIdentity], output: @escaping (Data) throws -> Void) {
        self.identities = identities
        self.output = output
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        try drain()
    }

    package func write(_ data: some DataProtocol) throws {
        for region in data.regions { try region.withUnsafeBytes { try write($0) } }
    }

    package func finish() throws {
        try drain()
        guard var payload else {
            throw fileKey == nil ? AgeError("the file ends inside its age header: it was truncated") : AgeError.truncated
        }
        let rest = buffer[start...]
        // Only an empty file has an empty last chunk; anything shorter than a tag is cut off.
        guard rest.count >= AgePayload.tagSize, rest.count > AgePayload.tagSize || chunks == 0 else { throw AgeError.truncated }
        try output(try payload.open(rest, last: true))
        self.payload = payload
        buffer = []
        start = 0
    }

    private func drain() throws {
        if fileKey == nil {
            guard let (header, length, macInput) = try AgeHeader.parse(buffer[start...]) else { return }
            fileKey = try header.unwrap(with: identities, macInput: macInput)
            start += length
        }
        if payload == nil, let fileKey {
            guard buffer.count - start >= AgePayload.nonceSize else { return }
            payload = AgePayload(fileKey: fileKey, nonce: Array(buffer[start..<start + AgePayload.nonceSize]))
            start += AgePayload.nonceSize
        }
        let sealed = AgePayload.chunkSize + AgePayload.tagSize
        // A chunk is known not to be the last only when more bytes follow it.
        while payload != nil, buffer.count - start > sealed {
            try output(try payload!.open(buffer[start..<start + sealed], last: false))
            start += sealed
            chunks += 1
        }
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
