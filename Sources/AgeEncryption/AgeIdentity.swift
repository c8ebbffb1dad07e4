import Crypto
import Foundation

/// An X25519 identity, `AGE-SECRET-KEY-1…`: the private key that decrypts. It is read from an
/// identity file (the `age-keygen` format: one key per line, `#` comments) and never printed.
package struct AgeIdentity: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The raw 32-byte scalar (swift-crypto's key types are not Sendable); checked at creation.
    private let raw: [UInt8]
    var privateKey: Curve25519.KeyAgreement.PrivateKey { try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) }  // valid since init

    package static func generate() -> AgeIdentity { AgeIdentity(privateKey: .init()) }

    package init(_ text: String) throws {
        guard let (prefix, data) = Bech32.decode(text.trimmingCharacters(in: .whitespaces)), prefix == "age-secret-key-", data.count == 32,
              (try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: data)) != nil else {
            throw AgeError("not an age X25519 identity (expected AGE-SECRET-KEY-1…)")
        }
        raw = data
    }

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) { raw = Array(privateKey.rawRepresentation) }

    package var recipient: AgeRecipient { AgeRecipient(publicKey: privateKey.publicKey) }

    // Printed, logged, dumped or shown in a failed test, an identity is its recipient: the key
    // itself never leaves through a description or a mirror.
    package var description: String { "AgeIdentity(\(recipient))" }
    package var debugDescription: String { description }
    package var customMirror: Mirror { Mirror(self, children: ["recipient": recipient.description]) }

    /// The secret in its text form, for writing an identity file.
    package var secretText: String { Bech32.encode(prefix: "AGE-SECRET-KEY-", data: raw) }

    /// Every identity of an identity file's text; a line that is neither a comment nor a key is
    /// refused with its number (never its content, which may be a key with a typo).
    package static func parseFile(_ text: String) throws -> [AgeIdentity] {
        var identities: [AgeIdentity] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            do {
                identities.append(try AgeIdentity(trimmed))
            } catch {
                throw AgeError("identity file line \(number + 1) is not an age X25519 identity (AGE-SECRET-KEY-1…)")
            }
        }
        guard !identities.isEmpty else { throw AgeError("the identity file holds no identity (AGE-SECRET-KEY-1…)") }
        return identities
    }

    /// An identity file's text in `age-keygen`'s layout.
    package func fileText(created: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        return "# created: \(formatter.string(from: created))\n# public key: \(recipient)\n\(secretText)\n"
    }
}
