import AgeEncryption
import ArgumentParser
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "age keys for encrypted backups: generate an identity, show an identity file's recipients.",
        subcommands: [Generate.self, Recipient.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
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
        static let configuration = CommandConfiguration(abstract: "Print the recipient (age1…) of each identity in an identity file.")

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
}
