import AgeEncryption
import Foundation

/// The age identity file that decrypts encrypted copies (`backups.identity_file`), read when a
/// restore or drill needs it. Like ssh with a private key, it refuses a file that others can
/// read: a key anyone on the host can read protects nothing.
package enum IdentityFile {
    package static func load(_ path: String?) throws -> [AgeIdentity] {
        guard let path else {
            throw BackupRequestError(
                "the copy is encrypted and no identity decrypts it here: set backups.identity_file to the age identity file whose recipient is in the profile's encrypt_to (orchestrator keys recipient FILE prints it)"
            )
        }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw BackupRequestError("cannot read backups.identity_file \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw BackupRequestError(
                "backups.identity_file \(path) can be read by other users (mode \(String(status.st_mode & 0o777, radix: 8))); make it private: chmod 600 \(path)"
            )
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw BackupRequestError("cannot read backups.identity_file \(path): \(error.localizedDescription)")
        }
        do {
            return try AgeIdentity.parseFile(text)
        } catch {
            throw BackupRequestError("backups.identity_file \(path): \(error)")
        }
    }
}
