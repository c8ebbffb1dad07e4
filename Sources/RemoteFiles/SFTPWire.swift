/// The SFTP protocol, version 3 (draft-ietf-secsh-filexfer-02), the version OpenSSH's
/// sftp-server speaks: length-prefixed packets of big-endian integers and length-prefixed strings.
///
/// Only what `SFTPChannel` sends and receives is here. Every field a server sends is read with
/// its bounds checked: a hostile or broken server gets a protocol error, never a crash or an
/// allocation it chose.
enum SFTPMessage: UInt8 {
    case initialize = 1, version = 2, open = 3, close = 4, read = 5, write = 6, lstat = 7, fstat = 8
    case opendir = 11, readdir = 12, remove = 13, mkdir = 14, rmdir = 15, stat = 17, rename = 18
    case status = 101, handle = 102, data = 103, name = 104, attributes = 105
    case extended = 200, extendedReply = 201
}

/// SSH_FX_* codes of a STATUS reply.
enum SFTPStatusCode: UInt32 {
    case ok = 0, endOfFile = 1, noSuchFile = 2, permissionDenied = 3, failure = 4, badMessage = 5
    case noConnection = 6, connectionLost = 7, unsupported = 8
}

/// SSH_FXF_* flags of an OPEN request.
enum SFTPOpenFlags {
    static let read: UInt32 = 0x01
    static let write: UInt32 = 0x02
    static let create: UInt32 = 0x08
    static let truncate: UInt32 = 0x10
}

/// A server's reply that breaks the protocol (the message says how).
struct SFTPProtocolError: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Builds one packet: the length is filled in by `finish`.
struct SFTPPacketWriter {
    private(set) var bytes: [UInt8]

    init(_ type: SFTPMessage, id: UInt32? = nil, capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: [0, 0, 0, 0, type.rawValue])
        if let id { append(id) }
    }

    mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(string: [UInt8]) {
        append(UInt32(string.count))
        bytes.append(contentsOf: string)
    }

    /// A path or name: its UTF-8 bytes, as OpenSSH sends them.
    mutating func append(string: String) { append(string: Array(string.utf8)) }

    /// Empty attributes (no field set): the server's defaults.
    mutating func appendNoAttributes() { append(UInt32(0)) }

    /// Attributes with only the permission bits set (what a new file or directory gets).
    mutating func appendAttributes(permissions: UInt32) {
        append(UInt32(0x4))
        append(permissions)
    }

    /// Sets the length for a packet of these bytes plus `trailing` bytes sent after them.
    mutating func finish(trailing: Int = 0) -> [UInt8] {
        let length = UInt32(bytes.count - 4 + trailing).bigEndian
        withUnsafeBytes(of: length) { length in
            for index in 0..<4 { bytes[index] = length[index] }
        }
        return bytes
    }
}

/// Reads the fields of one received packet (its type byte and what follows).
struct SFTPPacketReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    mutating func byte() throws(SFTPProtocolError) -> UInt8 {
        guard remaining >= 1 else { throw SFTPProtocolError("a reply ended early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint32() throws(SFTPProtocolError) -> UInt32 {
        guard remaining >= 4 else { throw SFTPProtocolError("a reply ended early") }
        var value: UInt32 = 0
        for index in position..<position + 4 { value = value << 8 | UInt32(bytes[index]) }
        position += 4
        return value
    }

    mutating func uint64() throws(SFTPProtocolError) -> UInt64 {
        let high = UInt64(try uint32())
        return high << 32 | UInt64(try uint32())
    }

    /// A string's bytes, within the packet.
    mutating func stringBytes() throws(SFTPProtocolError) -> ArraySlice<UInt8> {
        let count = Int(try uint32())
        guard count <= remaining else { throw SFTPProtocolError("a string in a reply is longer than the reply") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func string() throws(SFTPProtocolError) -> String {
        String(decoding: try stringBytes(), as: UTF8.self)
    }

    /// ATTRS; only the size and the permissions are kept.
    mutating func attributes() throws(SFTPProtocolError) -> SFTPAttributes {
        let flags = try uint32()
        var attributes = SFTPAttributes()
        if flags & 0x1 != 0 { attributes.size = try uint64() }
        if flags & 0x2 != 0 { _ = (try uint32(), try uint32()) }
        if flags & 0x4 != 0 { attributes.permissions = try uint32() }
        if flags & 0x8 != 0 { _ = (try uint32(), try uint32()) }
        if flags & 0x8000_0000 != 0 {
            let count = try uint32()
            for _ in 0..<count { _ = (try stringBytes(), try stringBytes()) }
        }
        return attributes
    }
}

/// What a STAT reply says of a path.
struct SFTPAttributes: Sendable, Equatable {
    var size: UInt64?
    var permissions: UInt32?

    /// S_IFDIR in the permissions' file type bits.
    var isDirectory: Bool { (permissions ?? 0) & 0o170000 == 0o040000 }
}
