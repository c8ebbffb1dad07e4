import AgeEncryption
import ArgumentParser
import Archiving
import Backups
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "age keys for encrypted backups: generate an identity, show an identity file's recipients, encrypt a file.",
        subcommands: [Generate.self, Recipient.self, Encrypt.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Write a new age identity file (mode 0600) and print its recipient.",
            discussion: """
                The recipient (age1…) goes into the configuration of every host that backs up; the identity file \
                decrypts, so keep it off those hosts (a drill host needs it). Files decrypt with the standard \
                `age -d -i FILE` too. An existing file is never overwritten.
                """
        )

        @Option(name: .shortAndLong, help: "Where to write the identity file.")
        var output: String

        @Flag(help: "Print {\"recipient\": …, \"identity_file\": …} as JSON.")
        var json = false

        func run() throws {
            let identity = AgeIdentity.generate()
            do {
                try IdentityFileWriter.create(path: output, text: identity.fileText())
            } catch let error as IdentityFileWriter.Failure {
                printError(error.description)
                throw ExitCodes.failure
            }
            if json {
                try Output.printJSON(["recipient": identity.recipient.description, "identity_file": output])
            } else {
                print(identity.recipient.description)
                FileHandle.standardError.write(Data("identity written to \(output) (mode 0600); its recipient is above\n".utf8))
            }
        }
    }

    struct Recipient: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "recipient", abstract: "Print the recipient (age1…) of each identity in an identity file.")

        @Argument(help: "An age identity file (as `orchestrator keys generate` or `age-keygen` writes it).")
        var identityFile: String

        func run() throws {
            let text: String
            do {
                text = try String(contentsOfFile: identityFile, encoding: .utf8)
            } catch {
                printError("cannot read \(identityFile): \((error as NSError).localizedDescription)")
                throw ExitCodes.failure
            }
            do {
                for identity in try AgeIdentity.parseFile(text) { print(identity.recipient.description) }
            } catch let error as AgeError {
                printError("\(identityFile): \(error)")
                throw ExitCodes.failure
            }
        }
    }

    struct Encrypt: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "encrypt",
            abstract: "Encrypt a file to age recipients, as encrypted copies are (decrypts with `age -d`).",
            discussion: """
                Streams in constant memory. The output is created new (mode 0600); an existing file is never \
                overwritten. For files that should leave the host outside a backup, and to compare with `age -e`.
                """
        )

        @Option(name: .shortAndLong, help: "A recipient (age1…); repeat for several.")
        var recipient: [String]

        @Option(name: .shortAndLong, help: "Where to write the encrypted file.")
        var output: String

        @Argument(help: "The file to encrypt.")
        var input: String

        func run() throws {
            let recipients: [AgeRecipient]
            do {
                recipients = try recipient.map(AgeRecipient.init)
            } catch {
                printError("--recipient: \(error)")
                throw ExitCodes.failure
            }
            guard !recipients.isEmpty else {
                printError("name at least one --recipient (age1…)")
                throw ExitCodes.failure
            }
            let source = open(input, O_RDONLY | O_CLOEXEC)
            guard source >= 0 else {
                printError("cannot open \(input): \(String(cString: strerror(errno)))")
                throw ExitCodes.failure
            }
            defer { close(source) }
            let target = open(output, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard target >= 0 else {
                printError(errno == EEXIST ? "\(output) exists; not overwritten" : "cannot create \(output): \(String(cString: strerror(errno)))")
                throw ExitCodes.failure
            }
            var complete = false
            defer {
                close(target)
                if !complete { unlink(output) }
            }
            do {
                // Only the read-ahead thread uses it, until it is joined below.
                nonisolated(unsafe) let reader = try AgeEncryptingReader(recipients: recipients) { buffer in
                    while true {
                        let count = read(source, buffer.baseAddress, buffer.count)
                        if count >= 0 { return count }
                        if errno != EINTR { throw AgeError.io("cannot read \(input): \(String(cString: strerror(errno)))") }
                    }
                }
                // Reading and encrypting on one thread, writing on this one: two cores.
                let ahead = ReadAhead(name: "age-encrypt") { try reader.read(into: $0) }
                defer { ahead.close() }
                var buffer = [UInt8](repeating: 0, count: 1 << 20)
                // Written pages go to disk as the file grows (not all at the final fsync).
                var total: Int64 = 0
                var pushed: Int64 = 0
                while true {
                    let count = try buffer.withUnsafeMutableBytes { try ahead.read(into: $0) }
                    if count == 0 { break }
                    total += Int64(count)
                    if total - pushed >= 8 << 20 {
                        FileWriteback.start(target, offset: pushed, count: total - pushed)
                        pushed = total
                    }
                    try buffer.withUnsafeBytes { bytes in
                        var offset = 0
                        while offset < count {
                            let written = write(target, bytes.baseAddress! + offset, count - offset)
                            if written < 0 {
                                if errno == EINTR { continue }
                                throw AgeError.io("cannot write \(output): \(String(cString: strerror(errno)))")
                            }
                            offset += written
                        }
                    }
                }
                guard fsync(target) == 0 else { throw AgeError.io("cannot sync \(output): \(String(cString: strerror(errno)))") }
                complete = true
            } catch {
                printError("\(error)")
                throw ExitCodes.failure
            }
        }
    }
}
