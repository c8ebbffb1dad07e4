import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Creates a secret file only its owner can read: created exclusively (an existing file, or a
/// link planted in its place, is never written through), mode 0600 from the start, synced.
enum IdentityFileWriter {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func create(path: String, text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let cause = String(cString: strerror(errno))
            throw Failure(description: errno == EEXIST
                ? "\(path) exists; not overwritten (choose another --output or remove it yourself)"
                : "cannot create \(path): \(cause)")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                let cause = String(cString: strerror(errno))
                unlink(path)
                throw Failure(description: "cannot write \(path): \(cause)")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let cause = String(cString: strerror(errno))
            unlink(path)
            throw Failure(description: "cannot sync \(path): \(cause)")
        }
    }
}
