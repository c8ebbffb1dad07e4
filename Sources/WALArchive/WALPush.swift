import Archiving
import Crypto
import Foundation

/// `archive_command`: stores one file PostgreSQL hands over, compressed, with the SHA-256 of its
/// content, and returns only once it is durable. Blocking: run it on its own thread (the
/// command has nothing else to do).
///
/// Order of operations, so that a crash or `kill -9` at any point leaves either no file under
/// the final name or the complete one: check the source; if the name is already stored, compare
/// checksums; write `.NAME.zst.PID.tmp` in the destination directory, flush it, link it to its
/// final name (a rename that never replaces a file another push stored meanwhile), remove the
/// temporary name, flush the directory.
package struct WALPush: Sendable {
    package enum Outcome: Sendable, Equatable {
        /// Written now: the uncompressed size and checksum, and the compressed size.
        case stored(WALChecksumTrailer, compressedBytes: Int64)
        /// The repository already held the same content, intact; nothing was rewritten.
        case alreadyArchived(WALChecksumTrailer)
        /// The stored copy was damaged (it failed verification) and was replaced by this one.
        case repaired(WALChecksumTrailer, compressedBytes: Int64, damage: String)
    }

    package let repository: WALRepository
    /// zstd level 1: on WAL (page images, repeated tuple headers) it is the fastest level and
    /// its output was 10 % smaller than level 3's in our measurements (docs/benchmarks.md);
    /// archiving must keep up with the server more than it must save the last byte.
    package var compressionLevel = 1
    static let chunk = 1 << 20

    package init(repository: WALRepository) {
        self.repository = repository
    }

    /// `path` is `%p`: relative to the data directory (where PostgreSQL runs the command) or absolute.
    package func push(path: String) throws(WALArchiveError) -> Outcome {
        let file = try WALFileName(DurableFiles.lastComponent(of: path))
        guard !path.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw WALArchiveError(.refused, "\(WALFileName.shown(path)) contains \"..\"; archive_command must pass %p as PostgreSQL gives it")
        }
        try repository.checkRoot()
        let (source, size) = try DurableFiles.openExistingRegularFile(path)
        defer { close(source) }
        if file.isSegmentSized {
            let header = try DurableFiles.read(source, count: WALSegmentCheck.headerSize, at: 0, path)
            try WALSegmentCheck.check(file, size: size, header: header)
            if let identifier = WALClusterIdentity.systemIdentifier(inHeader: header) {
                try WALClusterIdentity.bind(identifier, in: repository, file: file)
            }
        }

        let destination = repository.path(for: file)
        if let stored = try DurableFiles.openRegularFile(destination) {
            defer { close(stored.descriptor) }
            do {
                return try compare(file, source: source, path: path, size: size, with: stored, at: destination)
            } catch where error.code == .corrupt {
                let (trailer, compressed) = try store(file, source: source, path: path, size: size, at: destination, replacing: true)
                return .repaired(trailer, compressedBytes: compressed ?? 0, damage: error.message)
            }
        }
        try DurableFiles.makeDirectories(repository.directories(for: file))
        let (trailer, compressed) = try store(file, source: source, path: path, size: size, at: destination, replacing: false)
        return compressed.map { .stored(trailer, compressedBytes: $0) } ?? .alreadyArchived(trailer)
    }

    /// The name is stored already: identical content, verified end to end, is success (made
    /// durable again, since the push that stored it may have died before flushing the
    /// directory); other content is a conflict an operator must look at; a damaged copy
    /// (`.corrupt`) is for the caller to replace. This costs a decompression, but only when
    /// PostgreSQL retries a push, which is rare.
    private func compare(
        _ file: WALFileName, source: Int32, path: String, size: Int64, with stored: (descriptor: Int32, size: Int64), at destination: String
    ) throws(WALArchiveError) -> Outcome {
        let existing = try StoredWALFile.restore(stored.descriptor, size: stored.size, path: destination, into: nil, at: destination)
        let incoming = try Self.digest(source, path: path, size: size)
        guard existing == incoming else {
            throw WALArchiveError(.conflict, "\(file) is already archived with different content: stored sha256 \(existing.sha256Hex) (\(existing.bytes) bytes) in \(destination), new sha256 \(incoming.sha256Hex) (\(incoming.bytes) bytes) from \(path). Two clusters may be archiving into one repository, or a timeline was reused; find out which copy is right before moving either")
        }
        try DurableFiles.sync(stored.descriptor, destination)
        try DurableFiles.syncDirectory(repository.directory(for: file))
        return .alreadyArchived(existing)
    }

    /// Writes the temporary file and links it into place (renames over a damaged copy when
    /// `replacing`). Returns the compressed size, or nil when a concurrent push stored the same
    /// content first.
    private func store(
        _ file: WALFileName, source: Int32, path: String, size: Int64, at destination: String, replacing: Bool
    ) throws(WALArchiveError) -> (WALChecksumTrailer, Int64?) {
        let directory = repository.directory(for: file)
        let temporary = directory + "/" + WALTemporaryFiles.name(for: repository.storedName(for: file), pid: getpid())
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw WALArchiveError(.io, "cannot create \(temporary): \(DurableFiles.reason())") }
        var linked = false
        defer {
            close(output)
            if !linked { unlink(temporary) }
        }
        // Explicit, so the orchestrator's group may read it whatever postgres's umask.
        guard fchmod(output, 0o640) == 0 else { throw WALArchiveError(.io, "cannot set the mode of \(temporary): \(DurableFiles.reason())") }
        let trailer = try compress(source, path: path, size: size, into: output, at: temporary)
        try DurableFiles.write(output, trailer.encoded, temporary)
        try DurableFiles.sync(output, temporary)
        var info = stat()
        guard fstat(output, &info) == 0 else { throw WALArchiveError(.io, "cannot stat \(temporary): \(DurableFiles.reason())") }

        if replacing {
            guard rename(temporary, destination) == 0 else {
                throw WALArchiveError(.io, "cannot move \(temporary) to \(destination): \(DurableFiles.reason())")
            }
            linked = true
            try DurableFiles.syncDirectory(directory)
            return (trailer, Int64(info.st_size))
        }
        if link(temporary, destination) != 0 {
            guard errno == EEXIST, let stored = try DurableFiles.openRegularFile(destination) else {
                throw WALArchiveError(.io, "cannot move \(temporary) to \(destination): \(DurableFiles.reason())")
            }
            defer { close(stored.descriptor) }
            let existing = try StoredWALFile.trailer(of: stored.descriptor, size: stored.size, path: destination)
            guard existing == trailer else {
                throw WALArchiveError(.conflict, "\(file) was archived meanwhile with different content: stored sha256 \(existing.sha256Hex), new sha256 \(trailer.sha256Hex) from \(path)")
            }
            unlink(temporary)
            linked = true
            try DurableFiles.syncDirectory(directory)
            return (trailer, nil)
        }
        linked = true
        guard unlink(temporary) == 0 else { throw WALArchiveError(.io, "cannot remove \(temporary): \(DurableFiles.reason())") }
        try DurableFiles.syncDirectory(directory)
        WALTemporaryFiles.removeAbandoned(of: repository.storedName(for: file), in: directory)
        return (trailer, Int64(info.st_size))
    }

    /// Compresses exactly `size` bytes of `source` into `output`, hashing them on the way.
    private func compress(_ source: Int32, path: String, size: Int64, into output: Int32, at temporary: String) throws(WALArchiveError) -> WALChecksumTrailer {
        let writer: ZstdStreamWriter
        do throws(ArchiveError) {
            // zstd compresses on a thread of its own while this one reads and hashes the next
            // megabyte: with a second core free, the SHA-256 adds no time to PostgreSQL's wait.
            writer = try ZstdStreamWriter(descriptor: output, name: temporary, level: compressionLevel, compressionThreads: 1)
        } catch {
            throw WALArchiveError(.io, error.message)
        }
        var hasher = SHA256()
        try Self.readAll(source, path: path, size: size) { (bytes) throws(WALArchiveError) in
            hasher.update(bufferPointer: bytes)
            do throws(ArchiveError) { try writer.write(bytes) } catch { throw WALArchiveError(.io, error.message) }
        }
        do throws(ArchiveError) { try writer.finish() } catch { throw WALArchiveError(.io, error.message) }
        return WALChecksumTrailer(bytes: size, sha256: Array(hasher.finalize()))
    }

    static func digest(_ source: Int32, path: String, size: Int64) throws(WALArchiveError) -> WALChecksumTrailer {
        var hasher = SHA256()
        try readAll(source, path: path, size: size) { (bytes) throws(WALArchiveError) in hasher.update(bufferPointer: bytes) }
        return WALChecksumTrailer(bytes: size, sha256: Array(hasher.finalize()))
    }

    /// Reads exactly `size` bytes (the size seen at open) from offset 0 in 1 MB chunks: a file
    /// that shrinks while being read is refused rather than stored half-written.
    static func readAll(_ source: Int32, path: String, size: Int64, _ body: (UnsafeRawBufferPointer) throws(WALArchiveError) -> Void) throws(WALArchiveError) {
        // A raw buffer rather than an array: no closure between the read and `body`'s typed error.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < size {
            let want = Int(min(Int64(chunk), size - offset))
            let got = pread(source, buffer.baseAddress, want, off_t(offset))
            if got < 0 {
                if errno == EINTR { continue }
                throw WALArchiveError(.io, "cannot read \(path): \(DurableFiles.reason())")
            }
            guard got > 0 else {
                throw WALArchiveError(.io, "\(path) shrank while being read (\(size) bytes at the start, only \(offset) then): not archived; PostgreSQL will retry")
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<got]))
            offset += Int64(got)
        }
    }
}
