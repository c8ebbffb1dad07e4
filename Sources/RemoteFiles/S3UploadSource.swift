#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an upload's bytes come from, shared by the parts of a multipart upload so that each
/// part continues where the previous one stopped; used by the transfer's thread only.
final class S3UploadSource {
    private enum Origin {
        case descriptor(Int32)
        case producer(@Sendable (UnsafeMutableRawBufferPointer) throws -> Int)
        case bytes([UInt8])
    }

    private let origin: Origin
    /// All the bytes this source is to give; a producer must give exactly this many.
    let size: Int64
    private(set) var taken: Int64 = 0
    /// What a producer wrote past the part it was filling; handed out first to the next part.
    /// At most one of libcurl's buffers: parts are never held in memory.
    private var carry: [UInt8] = []
    private var produced: Int64 = 0

    init(descriptor: Int32, size: Int64) {
        origin = .descriptor(descriptor)
        self.size = size
    }

    init(size: Int64, producer: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int) {
        origin = .producer(producer)
        self.size = size
    }

    init(bytes: [UInt8]) {
        origin = .bytes(bytes)
        size = Int64(bytes.count)
    }

    /// Fills `buffer` with up to `limit` bytes (the rest of the current part); 0 only when the
    /// part is complete.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, limit: Int64) throws(S3Failure) -> Int {
        let wanted = Int(min(Int64(buffer.count), limit))
        guard wanted > 0 else { return 0 }
        let count: Int
        switch origin {
        case .bytes(let bytes):
            let start = Int(taken)
            count = min(wanted, bytes.count - start)
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: count) }
        case .descriptor(let descriptor):
            var length: Int
            repeat { length = read(descriptor, buffer.baseAddress!, wanted) } while length < 0 && errno == EINTR
            guard length >= 0 else {
                throw .complete(RemoteFileError(.localFile, "cannot read the local file: \(String(cString: strerror(errno)))"))
            }
            guard length > 0 else { throw .consumer("the local file ended at byte \(taken) of the \(size) it had when the upload started") }
            count = length
        case .producer(let producer):
            count = try fromProducer(producer, into: buffer, wanted: wanted)
        }
        taken += Int64(count)
        return count
    }

    /// The carried bytes first; else one call of the producer over libcurl's whole buffer, what
    /// runs past `wanted` kept for the next part. A stream shorter or longer than announced is
    /// refused here, during the transfer, so the object is never completed.
    private func fromProducer(
        _ producer: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int, into buffer: UnsafeMutableRawBufferPointer, wanted: Int
    ) throws(S3Failure) -> Int {
        if carry.isEmpty {
            let length: Int
            do {
                length = try producer(buffer)
            } catch let error as RemoteFileError {
                throw .complete(error)
            } catch {
                throw .consumer(String(describing: error))
            }
            produced += Int64(length)
            guard produced <= size else { throw .consumer("the data to send runs past the \(size) bytes announced") }
            guard length > 0 else { throw .consumer("the data to send ended at byte \(produced) of the \(size) announced") }
            if length <= wanted { return length }
            carry = Array(UnsafeRawBufferPointer(rebasing: buffer[wanted..<length]))
            return wanted
        }
        let count = min(wanted, carry.count)
        carry.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        carry.removeFirst(count)
        return count
    }
}
