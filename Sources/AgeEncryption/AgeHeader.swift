import Crypto
import Foundation

/// The age v1 header: the version line, one X25519 stanza per recipient (the file key wrapped
/// to that recipient), and an HMAC over all of it keyed from the file key.
struct AgeHeader {
    static let versionLine = "age-encryption.org/v1"
    static let x25519Label = "age-encryption.org/v1/X25519"
    /// A header larger than this is not one age or orchestrator writes (a stanza is ~100 bytes).
    static let maximumSize = 64 * 1024
    static let maximumStanzas = 64

    struct Stanza: Equatable {
        let arguments: [String]
        let body: [UInt8]
    }

    let stanzas: [Stanza]
    let mac: [UInt8]

    // MARK: Writing

    /// The header's bytes for a new file key wrapped to each recipient.
    static func encode(fileKey: SymmetricKey, recipients: [AgeRecipient]) throws -> [UInt8] {
        var text = versionLine + "\n"
        for recipient in recipients {
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            let share = Array(ephemeral.publicKey.rawRepresentation)
            let wrapKey = try wrappingKey(shared: try ephemeral.sharedSecretFromKeyAgreement(with: recipient.publicKey),
                                          share: share, recipient: Array(recipient.publicKey.rawRepresentation))
            let box = try ChaChaPoly.seal(fileKey.withUnsafeBytes { Array($0) }, using: wrapKey, nonce: ChaChaPoly.Nonce(data: [UInt8](repeating: 0, count: 12)))
            text += stanzaText(["X25519", base64(share)], body: Array(box.ciphertext) + Array(box.tag))
        }
        text += "---"
        let mac = headerMAC(fileKey: fileKey, header: Array(text.utf8))
        return Array((text + " " + base64(mac) + "\n").utf8)
    }

    private static func stanzaText(_ arguments: [String], body: [UInt8]) -> String {
        var text = "-> " + arguments.joined(separator: " ") + "\n"
        let encoded = Array(base64(body).utf8)
        var start = 0
        // Full 64-column lines, then a shorter final line (empty when the body fills the last one).
        while encoded.count - start >= 64 {
            text += String(decoding: encoded[start..<start + 64], as: UTF8.self) + "\n"
            start += 64
        }
        return text + String(decoding: encoded[start...], as: UTF8.self) + "\n"
    }

    // MARK: Reading

    /// The header at the start of `bytes` and its length, nil while more bytes are needed.
    static func parse(_ bytes: ArraySlice<UInt8>) throws -> (header: AgeHeader, length: Int, macInput: ArraySlice<UInt8>)? {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = bytes[start..<newline]
            lines.append(line)
            start = newline + 1
            if line.starts(with: Array("---".utf8)) {
                return (try interpret(lines), start - bytes.startIndex, bytes[bytes.startIndex..<(line.startIndex + 3)])
            }
            guard start - bytes.startIndex <= maximumSize else { throw AgeError("the age header is larger than \(maximumSize) bytes: not an age file") }
        }
        guard bytes.count <= maximumSize else { throw AgeError("the age header is larger than \(maximumSize) bytes: not an age file") }
        if let first = lines.first, String(decoding: first, as: UTF8.self) != versionLine { throw notAge }
        if lines.isEmpty, !Array(versionLine.utf8).starts(with: bytes.prefix(versionLine.utf8.count)) { throw notAge }
        return nil
    }

    static let notAge = AgeError("not an age v1 file (its first line is not \(versionLine))")

    private static func interpret(_ lines: [ArraySlice<UInt8>]) throws -> AgeHeader {
        let text = lines.map { String(decoding: $0, as: UTF8.self) }
        guard text.first == versionLine else { throw notAge }
        var stanzas: [Stanza] = []
        var index = 1
        while index < text.count - 1 {
            guard text[index].hasPrefix("-> ") else { throw AgeError("malformed age header: line \(index + 1) does not start a stanza") }
            let arguments = text[index].dropFirst(3).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard !arguments.isEmpty, arguments.allSatisfy({ !$0.isEmpty }) else { throw AgeError("malformed age header: empty stanza argument") }
            index += 1
            var body = ""
            while true {
                guard index < text.count - 1 else { throw AgeError("malformed age header: a stanza body does not end") }
                let line = text[index]
                index += 1
                guard line.count <= 64 else { throw AgeError("malformed age header: a body line is longer than 64 columns") }
                body += line
                if line.count < 64 { break }
            }
            guard let decoded = decodeBase64(body) else { throw AgeError("malformed age header: a stanza body is not canonical base64") }
            stanzas.append(Stanza(arguments: arguments, body: decoded))
            guard stanzas.count <= maximumStanzas else { throw AgeError("the age header has more than \(maximumStanzas) stanzas") }
        }
        let last = text[text.count - 1]
        guard last.hasPrefix("--- "), let mac = decodeBase64(String(last.dropFirst(4))), mac.count == 32 else {
            throw AgeError("malformed age header: the MAC line is not `--- ` and 43 base64 characters")
        }
        return AgeHeader(stanzas: stanzas, mac: mac)
    }

    /// The file key, from the first X25519 stanza one of the identities opens, after checking
    /// the header's MAC with it.
    func unwrap(with identities: [AgeIdentity], macInput: ArraySlice<UInt8>) throws -> SymmetricKey {
        for stanza in stanzas where stanza.arguments.first == "X25519" {
            guard stanza.arguments.count == 2, let share = Self.decodeBase64(stanza.arguments[1]), share.count == 32, stanza.body.count == 32,
                  let sharePoint = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share) else {
                throw AgeError("malformed X25519 stanza in the age header")
            }
            for identity in identities {
                guard let shared = try? identity.privateKey.sharedSecretFromKeyAgreement(with: sharePoint) else { continue }
                let wrapKey = try Self.wrappingKey(shared: shared, share: share, recipient: Array(identity.privateKey.publicKey.rawRepresentation))
                guard let box = try? ChaChaPoly.SealedBox(combined: [UInt8](repeating: 0, count: 12) + stanza.body),
                      let fileKey = try? ChaChaPoly.open(box, using: wrapKey) else { continue }
                let key = SymmetricKey(data: fileKey)
                guard fileKey.count == 16, Self.headerMAC(fileKey: key, header: Array(macInput)) == mac else { throw AgeError.headerTampered }
                return key
            }
        }
        throw AgeError.noMatchingIdentity
    }

    // MARK: Keys

    private static func wrappingKey(shared: SharedSecret, share: [UInt8], recipient: [UInt8]) throws -> SymmetricKey {
        // A low-order share gives an all-zero secret that anyone could compute: refused, as age does.
        guard shared.withUnsafeBytes({ $0.contains { $0 != 0 } }) else { throw AgeError("an X25519 stanza has a low-order share") }
        return shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: share + recipient, sharedInfo: Array(x25519Label.utf8), outputByteCount: 32)
    }

    private static func headerMAC(fileKey: SymmetricKey, header: [UInt8]) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8), outputByteCount: 32)
        return Array(HMAC<SHA256>.authenticationCode(for: header, using: key))
    }

    // MARK: Base64 without padding, canonical only

    static func base64(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decodeBase64(_ text: String) -> [UInt8]? {
        guard !text.contains("="), text.utf8.allSatisfy({ $0 < 128 && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }) else { return nil }
        let padded = text + String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), base64(Array(data)) == text else { return nil }
        return Array(data)
    }
}
