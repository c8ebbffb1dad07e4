import Foundation

/// Encrypts as it is read: pulls plaintext from `source` up to a megabyte at a time and hands out the age
/// file's bytes (header, nonce, sealed chunks) to whoever reads, in constant memory. For
/// transfers that pull their body (an upload's read callback): the ciphertext never touches
/// the disk. `source` returns 0 at the end of the plaintext.
package final class AgeEncryptingReader {
    /// What the encryptor produced and `read` has not handed out yet: the sealed pieces as the
    /// encryptor made them (not copied into one buffer), and how far into the first one `read` is.
    private final class Output {
        var pieces: [Data] = []
        var first = 0
        var offset = 0
        var available: Bool { first < pieces.count }
    }

    private let output = Output()
    private let encryptor: AgeEncryptor
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    /// Plaintext as pulled (few large reads); chunks are sealed from here without a copy.
    private var plaintext = [UInt8](repeating: 0, count: 16 * AgePayload.chunkSize)
    /// `plaintext[consumed..<filled]` is read and not sealed yet.
    private var consumed = 0
    private var filled = 0
    private var sourceEnded = false
    private var finished = false

    package init(recipients: [AgeRecipient], source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        let output = output
        encryptor = try AgeEncryptor(recipients: recipients) { data in
            if !data.isEmpty { output.pieces.append(data) }
        }
        self.source = source
    }

    /// Fills `buffer` as far as the file goes; 0 once every byte of it was read.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count {
            guard output.available else {
                guard !finished else { break }
                output.pieces.removeAll(keepingCapacity: true)
                output.first = 0
                try produce()
                continue
            }
            let piece = output.pieces[output.first]
            let take = min(piece.count - output.offset, buffer.count - written)
            let start = piece.startIndex + output.offset
            piece.copyBytes(to: UnsafeMutableRawBufferPointer(rebasing: buffer[written..<written + take]), from: start..<start + take)
            output.offset += take
            written += take
            if output.offset == piece.count {
                output.first += 1
                output.offset = 0
            }
        }
        return written
    }

    /// Seals the next chunk. A chunk is sealed only once a byte after it was read (or the source
    /// ended): only then is it known whether it is the last. Chunks are sealed straight from
    /// `plaintext`, one at a time, so a single sealed chunk is alive at once whatever the pull size.
    private func produce() throws {
        let chunk = AgePayload.chunkSize
        while true {
            if filled - consumed > chunk {
                try plaintext.withUnsafeBytes { try encryptor.writeChunk(UnsafeRawBufferPointer(rebasing: $0[consumed..<consumed + chunk]), last: false) }
                consumed += chunk
                return
            }
            if sourceEnded {
                try plaintext.withUnsafeBytes { try encryptor.writeChunk(UnsafeRawBufferPointer(rebasing: $0[consumed..<filled]), last: true) }
                consumed = filled
                finished = true
                return
            }
            // At most a chunk is left: move it to the front and read more after it.
            if consumed > 0 {
                let left = filled - consumed
                plaintext.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + consumed, byteCount: left) }
                (consumed, filled) = (0, left)
            }
            let count = try plaintext.withUnsafeMutableBytes { try source(UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if count == 0 { sourceEnded = true } else { filled += count }
        }
    }
}
