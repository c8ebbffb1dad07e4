import Crypto

/// An X25519 recipient, `age1…`: the public key a backup host needs to encrypt.
package struct AgeRecipient: Sendable, Equatable, CustomStringConvertible {
    /// The raw 32-byte key (swift-crypto's key types are not Sendable); checked at creation.
    let raw: [UInt8]
    var publicKey: Curve25519.KeyAgreement.PublicKey { try! Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw) }  // valid since init

    package init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let (prefix, data) = Bech32.decode(trimmed), prefix == "age", data.count == 32,
              (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: data)) != nil else {
            throw AgeError("not an age X25519 recipient (expected age1… as `age-keygen -y` or `orchestrator keys generate` prints it)")
        }
        raw = data
    }

    init(publicKey: Curve25519.KeyAgreement.PublicKey) { raw = Array(publicKey.rawRepresentation) }

    package var description: String { Bech32.encode(prefix: "age", data: raw) }
}
