import Foundation

/// Which cluster a repository's WAL belongs to. Every segment's first page names its cluster
/// (`xlp_sysid`, the system identifier `initdb` chose), and a repository holds the WAL of one
/// cluster only: mixed in, another cluster's segments would be restored into this one. The
/// first segment pushed binds the repository (`wal/system_identifier`, written durably); a
/// segment of any other cluster is then refused, and so are base backups and restores of one.
package enum WALClusterIdentity {
    package static let fileName = "system_identifier"

    /// The system identifier in a segment's long page header (bytes 24..<32, native order).
    package static func systemIdentifier(inHeader header: [UInt8]) -> UInt64? {
        guard header.count >= 32 else { return nil }
        return header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 24, as: UInt64.self) }
    }

    /// The identifier the repository is bound to; nil before its first segment.
    package static func bound(in repository: WALRepository) throws(WALArchiveError) -> UInt64? {
        let path = repository.walDirectory + "/" + fileName
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            guard errno == ENOENT || !FileManager.default.fileExists(atPath: path) else {
                throw WALArchiveError(.io, "cannot read \(path): \(DurableFiles.reason())")
            }
            return nil
        }
        guard let value = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw WALArchiveError(.corrupt, "\(path) does not hold a system identifier; restore it or remove it (the next segment binds the repository again)")
        }
        return value
    }

    /// Refuses `identifier` when the repository holds another cluster's WAL; a repository not
    /// bound yet (no segment pushed) accepts any.
    package static func check(_ identifier: UInt64, in repository: WALRepository, what: String) throws(WALArchiveError) {
        guard let bound = try bound(in: repository) else { return }
        try check(identifier, against: bound, repository: repository, what: what)
    }

    /// Binds the repository to `identifier` on first use; refuses another cluster's WAL.
    package static func bind(_ identifier: UInt64, in repository: WALRepository, file: WALFileName) throws(WALArchiveError) {
        if try bound(in: repository) != nil {
            try check(identifier, in: repository, what: "segment \(file)")
            return
        }
        try DurableFiles.makeDirectories([repository.walDirectory])
        let path = repository.walDirectory + "/" + fileName
        // Unique per call: the background pusher runs several pushes in one process.
        let temporary = repository.walDirectory + "/." + fileName + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard output >= 0 else { throw WALArchiveError(.io, "cannot create \(temporary): \(DurableFiles.reason())") }
        defer { unlink(temporary) }
        do {
            defer { close(output) }
            guard fchmod(output, 0o640) == 0 else { throw WALArchiveError(.io, "cannot set the mode of \(temporary): \(DurableFiles.reason())") }
            try DurableFiles.write(output, Array("\(identifier)\n".utf8), temporary)
            try DurableFiles.sync(output, temporary)
        }
        if link(temporary, path) != 0 {
            // Another push bound it meanwhile: it must be the same cluster.
            guard errno == EEXIST, let bound = try bound(in: repository) else {
                throw WALArchiveError(.io, "cannot create \(path): \(DurableFiles.reason())")
            }
            try check(identifier, against: bound, repository: repository, what: "segment \(file)")
        }
        try DurableFiles.syncDirectory(repository.walDirectory)
    }

    /// Refuses `identifier` unless it is the one the repository is bound to.
    package static func check(_ identifier: UInt64, against bound: UInt64, repository: WALRepository, what: String) throws(WALArchiveError) {
        guard identifier != bound else { return }
        throw WALArchiveError(.conflict, "\(what) belongs to cluster \(identifier), but \(repository.root) holds the WAL of cluster \(bound): every cluster needs a repository of its own (after a new initdb, move the old WAL away first)")
    }
}
