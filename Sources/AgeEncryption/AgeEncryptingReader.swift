import Foundation

/// Encrypts as it is read: pulls plaintext from `source` 64 KiB at a time and hands out the age
/// file's bytes (header, nonce, sealed chunks) to whoever reads, in constant memory. For
/// transfers that pull their body (an upload's read callback): the ciphertext never touches
/// the disk. `source` returns 0 at the end of the plaintext.
package final class AgeEncryptingReader {
    /// What the encryptor produced and `read` has not handed out yet.
    private final class Output {
        var bytes: [UInt8] = []
        var offset = 0
        var available: Int { bytes.count - offset }
    }

    private let output = Output()
    private let encryptor: AgeEncryptor
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    private var plaintext = [UInt8](repeating: 0, count: AgePayload.chunkSize)
    private var sourceEnded = false

    package init(recipients: [AgeRecipient], source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        let output = output
        encryptor = try AgeEncryptor(recipients: recipients) { data in
            if output.offset == output.bytes.count {
                output.bytes.removeAll(keepingCapacity: true)
                output.offset = 0
            }
            output.bytes.append(contentsOf: data)
        }
        self.source = source
    }

    /// Fills `buffer` as far as the file goes; 0 once every byte of it was read.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if output.available == 0 {
                guard !sourceEnded else { break }
                try produce()
                continue
            }
            let take = min(output.available, buffer.count - filled)
            output.bytes.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<filled + take])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[output.offset..<output.offset + take]))
            }
            output.offset += take
            filled += take
        }
        return filled
    }

    private func produce() throws {
        let count = try plaintext.withUnsafeMutableBytes { try source($0) }
        if count == 0 {
            sourceEnded = true
            try encryptor.finish()
        } else {
            try plaintext.withUnsafeBytes { try encryptor.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }
}
