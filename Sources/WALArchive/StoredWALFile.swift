import Archiving
import Crypto
import Foundation

/// Reading a file the repository holds: its checksum trailer, and its verified content.
enum StoredWALFile {
    /// The trailer at the end of a stored file; `.corrupt` when it is missing or damaged.
    static func trailer(of descriptor: Int32, size: Int64, path: String) throws(WALArchiveError) -> WALChecksumTrailer {
        guard size > Int64(WALChecksumTrailer.size),
              let trailer = try WALChecksumTrailer(decoding: DurableFiles.read(descriptor, count: WALChecksumTrailer.size, at: size - Int64(WALChecksumTrailer.size), path)) else {
            throw WALArchiveError(.corrupt, "\(path) has no valid checksum trailer (truncated or not written by orchestrator wal-push): move it aside and push the segment again if the cluster still has it")
        }
        return trailer
    }

    /// Decompresses the whole file into `output` (or only checks it, when nil), checking the
    /// size and SHA-256 against its trailer.
    static func restore(_ descriptor: Int32, size: Int64, path: String, into output: Int32?, at target: String) throws(WALArchiveError) -> WALChecksumTrailer {
        let expected = try trailer(of: descriptor, size: size, path: path)
        // libarchive opens no stream that decompresses to nothing; the trailer alone vouches
        // for empty content (a checksum of the empty string cannot match anything else).
        if expected.bytes == 0 {
            guard expected.sha256 == Array(SHA256.hash(data: [UInt8]())) else {
                throw WALArchiveError(.corrupt, "\(path) is damaged: its trailer records 0 bytes with sha256 \(expected.sha256Hex)")
            }
            return expected
        }
        var hasher = SHA256()
        var written: Int64 = 0
        do {
            try ZstdStreamReader.decompress(descriptor: descriptor, name: path) { bytes in
                written += Int64(bytes.count)
                // More than announced: corrupt; stop before filling the disk.
                guard written <= expected.bytes else {
                    throw WALArchiveError(.corrupt, "\(path) decompresses to more than the \(expected.bytes) bytes its trailer records")
                }
                hasher.update(bufferPointer: bytes)
                if let output { try DurableFiles.write(output, bytes, target) }
            }
        } catch let error as WALArchiveError {
            throw error
        } catch let error as ArchiveError {
            throw WALArchiveError(.corrupt, "\(error.message): the stored copy is damaged")
        } catch {
            throw WALArchiveError(.corrupt, "\(path): \(error)")
        }
        let actual = WALChecksumTrailer(bytes: written, sha256: Array(hasher.finalize()))
        guard actual == expected else {
            throw WALArchiveError(.corrupt, "\(path) is damaged: it decompresses to \(actual.bytes) bytes with sha256 \(actual.sha256Hex), but was stored as \(expected.bytes) bytes with sha256 \(expected.sha256Hex)")
        }
        return actual
    }
}
