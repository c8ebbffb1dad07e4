import Crypto

/// SHA-256 fed from the transfer's thread, read once it is done.
///
/// `@unchecked Sendable`: `update` runs only on the one thread running the transfer, and `hex()`
/// only after the awaiting task resumed from it, which orders the two.
final class RunningDigest: @unchecked Sendable {
    private var hasher = SHA256()

    func update(_ chunk: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: chunk)
    }

    func hex() -> String {
        let digits = Array("0123456789abcdef")
        return hasher.finalize().map { byte in String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]) }.joined()
    }
}
