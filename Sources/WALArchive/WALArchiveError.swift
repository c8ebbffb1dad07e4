/// What went wrong archiving or restoring one WAL file. The message names the file, the cause
/// and, where there is one, the fix; `code` decides the command's exit status.
package struct WALArchiveError: Error, Sendable, CustomStringConvertible {
    package enum Code: String, Sendable {
        /// The name or the file is not one PostgreSQL archives (bad name, wrong size, bad header).
        case refused
        /// The repository holds no file of that name (restore_command: a normal answer).
        case notFound
        /// The repository already holds the file with other content.
        case conflict
        /// The stored file does not decompress or does not match its checksum.
        case corrupt
        /// A system call failed (full disk, permissions, missing repository).
        case io
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
