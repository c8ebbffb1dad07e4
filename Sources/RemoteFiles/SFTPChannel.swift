import CurlSupport
#if canImport(Glibc)
import Glibc
#endif

/// An SFTP version 3 session over one `SSHProcess`: the requests `SFTPSession` needs, each
/// checked against the server's reply. Blocking; used by one thread at a time.
///
/// Writes and reads are pipelined as OpenSSH's `sftp` pipelines them: up to `inFlight` requests
/// wait for their replies at once, so a file streams at the link's pace
/// rather than one round trip per chunk.
///
/// A call that fails part-way through a pipeline (a broken connection, a cancellation) leaves
/// replies unread: `isBroken` is then true and the connection is thrown away. A failure the
/// server reports (a status) or one of the caller's own (a consumer that throws) leaves the
/// channel in step, usable for the next call.
/// Unchecked Sendable: it is only ever used by the one call running on a session's serial queue.
final class SFTPChannel: @unchecked Sendable {
    static let inFlight = 64
    /// What every SFTP server must accept in one READ or WRITE (draft-ietf-secsh-filexfer-02).
    static let safeLength = 32 * 1024
    /// At most this much per request, whatever the server allows: a packet must fit `received`.
    static let largestLength = 255 * 1024
    /// OpenSSH's sftp-server sends and accepts packets up to 256 KiB.
    static let maxPacketLength = 256 * 1024 + 1024

    private let ssh: SSHProcess
    private var nextID: UInt32 = 1
    private var received: [UInt8]
    private var start = 0
    private var end = 0
    /// The server has posix-rename@openssh.com: a rename that replaces its target atomically.
    private(set) var hasPosixRename = false
    /// Bytes per WRITE and per READ: the server's limits@openssh.com (OpenSSH: 255 KiB, as
    /// `sftp` uses them), else the 32 KiB every server takes.
    private(set) var writeLength = SFTPChannel.safeLength
    private(set) var readLength = SFTPChannel.safeLength
    private(set) var isBroken = false
    /// The server answered INIT: from here on, ssh ending is a connection lost, not a failed setup.
    private var isEstablished = false

    /// Starts the session: INIT, and the server's VERSION with its extensions.
    init(ssh: SSHProcess, cancellation: CancellationFlag) throws(SFTPFailure) {
        self.ssh = ssh
        received = [UInt8](repeating: 0, count: 2 * Self.maxPacketLength)
        var hello = SFTPPacketWriter(.initialize)
        hello.append(UInt32(3))
        try ssh.send(hello.finish(), cancellation: cancellation)
        let extensions = try receive(cancellation: cancellation) { type, reader throws(SFTPFailure) -> Set<String> in
            guard type == SFTPMessage.version.rawValue else { throw .protocolViolation("the server's first reply is not VERSION (type \(type))") }
            let version = try wire { () throws(SFTPProtocolError) in try reader.uint32() }
            guard version >= 3 else { throw .protocolViolation("the server speaks SFTP version \(version); version 3 is needed") }
            var extensions: Set<String> = []
            while reader.remaining > 0 {
                let (name, data) = try wire { () throws(SFTPProtocolError) in (try reader.string(), try reader.string()) }
                if data == "1" { extensions.insert(name) }
            }
            return extensions
        }
        hasPosixRename = extensions.contains("posix-rename@openssh.com")
        if extensions.contains("limits@openssh.com") {
            var request = SFTPPacketWriter(.extended, id: takeID())
            request.append(string: "limits@openssh.com")
            // A server that advertises the extension but refuses it keeps the safe length.
            try passingOverRefusal { () throws(SFTPFailure) in
                let (packet, read, write) = try call(request, cancellation: cancellation) { type, reader throws(SFTPFailure) -> (UInt64, UInt64, UInt64) in
                    guard type == SFTPMessage.extendedReply.rawValue else { throw .protocolViolation("limits@openssh.com was answered with type \(type)") }
                    return try wire { () throws(SFTPProtocolError) in (try reader.uint64(), try reader.uint64(), try reader.uint64()) }
                }
                // 0 means "no limit"; a request must also fit the server's packet limit.
                var largest = UInt64(Self.largestLength)
                if packet > 0 { largest = min(largest, packet > 1024 ? packet - 1024 : 0) }
                func length(_ limit: UInt64) -> Int {
                    let chosen = limit == 0 ? largest : min(limit, largest)
                    return Int(max(chosen, 1024))
                }
                readLength = length(read)
                writeLength = length(write)
            }
        }
        isEstablished = true
    }

    /// Ends the session: ssh sees its input close.
    func close() { ssh.end() }

    // MARK: - Requests

    /// STAT (following links) or LSTAT; nil when there is no such file.
    func attributes(of path: String, followingLinks: Bool = true, cancellation: CancellationFlag) throws(SFTPFailure) -> SFTPAttributes? {
        var request = SFTPPacketWriter(followingLinks ? .stat : .lstat, id: takeID())
        request.append(string: path)
        do throws(SFTPFailure) {
            return try call(request, cancellation: cancellation) { type, reader throws(SFTPFailure) in
                guard type == SFTPMessage.attributes.rawValue else { throw .protocolViolation("STAT was answered with type \(type)") }
                return try wire { () throws(SFTPProtocolError) in try reader.attributes() }
            }
        } catch {
            if case .status(let code, _) = error, code == SFTPStatusCode.noSuchFile.rawValue { return nil }
            throw error
        }
    }

    /// Creates a directory that only the server's user can enter (0700).
    func makeDirectory(_ path: String, cancellation: CancellationFlag) throws(SFTPFailure) {
        var request = SFTPPacketWriter(.mkdir, id: takeID())
        request.append(string: path)
        request.appendAttributes(permissions: 0o700)
        try callExpectingOK(request, cancellation: cancellation)
    }

    func removeFile(_ path: String, cancellation: CancellationFlag) throws(SFTPFailure) {
        var request = SFTPPacketWriter(.remove, id: takeID())
        request.append(string: path)
        try callExpectingOK(request, cancellation: cancellation)
    }

    func removeDirectory(_ path: String, cancellation: CancellationFlag) throws(SFTPFailure) {
        var request = SFTPPacketWriter(.rmdir, id: takeID())
        request.append(string: path)
        try callExpectingOK(request, cancellation: cancellation)
    }

    /// Renames `from` to `to`, replacing a file at `to` atomically with posix-rename; without
    /// it (another server), `to` is removed first and is absent for a moment, never incomplete.
    func rename(_ from: String, to: String, cancellation: CancellationFlag) throws(SFTPFailure) {
        if hasPosixRename {
            var request = SFTPPacketWriter(.extended, id: takeID())
            request.append(string: "posix-rename@openssh.com")
            request.append(string: from)
            request.append(string: to)
            try callExpectingOK(request, cancellation: cancellation)
            return
        }
        // A missing `from` must not cost the existing `to`.
        guard try attributes(of: from, followingLinks: false, cancellation: cancellation) != nil else {
            throw .status(code: SFTPStatusCode.noSuchFile.rawValue, message: "No such file")
        }
        try passingOverRefusal { () throws(SFTPFailure) in try removeFile(to, cancellation: cancellation) }
        var request = SFTPPacketWriter(.rename, id: takeID())
        request.append(string: from)
        request.append(string: to)
        try callExpectingOK(request, cancellation: cancellation)
    }

    /// The entries of a directory (without "." and ".."), each with its attributes as the server
    /// gives them (OpenSSH: not following links). At most `limit` bytes of names.
    func entries(of directory: String, limit: Int, cancellation: CancellationFlag) throws(SFTPFailure) -> [(name: String, attributes: SFTPAttributes)] {
        var open = SFTPPacketWriter(.opendir, id: takeID())
        open.append(string: directory)
        let handle = try call(open, cancellation: cancellation) { type, reader throws(SFTPFailure) in try Self.handle(type, &reader) }
        var entries: [(name: String, attributes: SFTPAttributes)] = []
        var total = 0
        var failure: SFTPFailure?
        reading: while true {
            var request = SFTPPacketWriter(.readdir, id: takeID())
            request.append(string: handle)
            do throws(SFTPFailure) {
                let batch = try call(request, cancellation: cancellation) { type, reader throws(SFTPFailure) in
                    guard type == SFTPMessage.name.rawValue else { throw .protocolViolation("READDIR was answered with type \(type)") }
                    return try wire { () throws(SFTPProtocolError) in
                        let count = try reader.uint32()
                        var batch: [(String, SFTPAttributes)] = []
                        for _ in 0..<count {
                            let name = try reader.string()
                            _ = try reader.stringBytes()
                            batch.append((name, try reader.attributes()))
                        }
                        return batch
                    }
                }
                guard !batch.isEmpty else {
                    isBroken = true
                    failure = .protocolViolation("READDIR was answered with no names and no end of directory")
                    break reading
                }
                for (name, attributes) in batch {
                    // Each entry costs memory beyond its name, "." and ".." included.
                    total += name.utf8.count + 64
                    if total > limit {
                        failure = .listingTooLong
                        break reading
                    }
                    if name != "." && name != ".." { entries.append((name, attributes)) }
                }
            } catch {
                if case .status(let code, _) = error, code == SFTPStatusCode.endOfFile.rawValue { break }
                failure = error
                break
            }
        }
        if isBroken, let failure { throw failure }
        try closeHandle(handle, cancellation: cancellation)
        if let failure { throw failure }
        return entries
    }

    /// Opens a file; `flags` from `SFTPOpenFlags`. The handle is the server's opaque string. A
    /// file it creates is readable by the server's user only (0600): backups are not for others.
    func open(_ path: String, flags: UInt32, cancellation: CancellationFlag) throws(SFTPFailure) -> [UInt8] {
        var request = SFTPPacketWriter(.open, id: takeID())
        request.append(string: path)
        request.append(flags)
        if flags & SFTPOpenFlags.create != 0 {
            request.appendAttributes(permissions: 0o600)
        } else {
            request.appendNoAttributes()
        }
        return try call(request, cancellation: cancellation) { type, reader throws(SFTPFailure) in try Self.handle(type, &reader) }
    }

    /// CLOSE; for a written file the server reports here what it could not write.
    func closeHandle(_ handle: [UInt8], cancellation: CancellationFlag) throws(SFTPFailure) {
        var request = SFTPPacketWriter(.close, id: takeID())
        request.append(string: handle)
        try callExpectingOK(request, cancellation: cancellation)
    }

    // MARK: - Pipelined transfers

    /// Writes `size` bytes from `fill` to the open file, from offset 0. `fill` puts up to the
    /// buffer's length of the next bytes into it and returns how many (0 before `size` is a
    /// failure it reports by throwing). At most `maxBytesPerSecond` when set; `progress` gets the
    /// bytes the server has acknowledged. Returns the bytes written.
    func write(
        _ handle: [UInt8], size: Int64, maxBytesPerSecond: Int64?, progress: (@Sendable (Int64) -> Void)?, cancellation: CancellationFlag,
        fill: (UnsafeMutableRawBufferPointer) throws(SFTPFailure) -> Int
    ) throws(SFTPFailure) -> Int64 {
        // Under a low rate limit, smaller chunks keep the pace even.
        let chunkSize = maxBytesPerSecond.map { Int(max(1024, min(Int64(writeLength), $0 / 8))) } ?? writeLength
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var sent: Int64 = 0
        var acknowledged: Int64 = 0
        var pending: [UInt32: Int] = [:]
        let started = ContinuousClock.now
        var failure: SFTPFailure?
        while (failure == nil && sent < size) || !pending.isEmpty {
            // Replies that are already here are taken first: progress stays current, and a
            // connection that broke is noticed before more is sent.
            let mayWait = failure != nil || sent >= size || pending.count >= Self.inFlight || (!pending.isEmpty && replyWaiting)
            if !mayWait {
                let wanted = Int(min(Int64(chunkSize), size - sent))
                let count: Int
                do throws(SFTPFailure) {
                    count = try chunk.withMutableBytes { buffer throws(SFTPFailure) in
                        try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]))
                    }
                } catch {
                    failure = error
                    continue
                }
                guard count > 0 && count <= wanted else {
                    failure = .consumer("the data to send gave \(count) bytes where 1 to \(wanted) were asked for")
                    continue
                }
                let id = takeID()
                var head = SFTPPacketWriter(.write, id: id, capacity: 32 + handle.count)
                head.append(string: handle)
                head.append(UInt64(sent))
                head.append(UInt32(count))
                let header = head.finish(trailing: count)
                try guarded { () throws(SFTPFailure) in
                    try chunk.withBytes { buffer throws(SFTPFailure) in
                        try ssh.send(header, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), cancellation: cancellation)
                    }
                }
                pending[id] = count
                sent += Int64(count)
                if let maxBytesPerSecond { try pace(sent: sent, since: started, rate: maxBytesPerSecond, cancellation: cancellation) }
                continue
            }
            // The window is full, the data all sent, or the source failed: take a reply.
            let (id, status) = try guarded { () throws(SFTPFailure) in try receiveStatus(cancellation: cancellation) }
            guard let count = pending.removeValue(forKey: id) else {
                isBroken = true
                throw .protocolViolation("a reply to a write that was not sent (id \(id))")
            }
            if let status, failure == nil { failure = status }
            acknowledged += Int64(count)
            if failure == nil { progress?(acknowledged) }
        }
        if let failure { throw failure }
        return sent
    }

    /// Reads the open file from offset 0 to its end, handing each chunk to `consume` in order.
    /// Returns the bytes read. A `consume` that throws stops the read (what is in flight is
    /// drained, so the channel stays usable).
    func read(_ handle: [UInt8], cancellation: CancellationFlag, consume: (UnsafeRawBufferPointer) throws(SFTPFailure) -> Void) throws(SFTPFailure) -> Int64 {
        // Requests in file order; a reply is handed on only when those before it were.
        struct Slot {
            let id: UInt32
            let offset: UInt64
            let length: Int
            var data: [UInt8]?
            var atEnd = false
        }
        var slots: [Slot] = []
        var nextOffset: UInt64 = 0
        var delivered: Int64 = 0
        var reachedEnd = false
        var pastEnd = false
        var failure: SFTPFailure?

        func request(offset: UInt64, length: Int) throws(SFTPFailure) -> Slot {
            let id = takeID()
            var packet = SFTPPacketWriter(.read, id: id, capacity: 32 + handle.count)
            packet.append(string: handle)
            packet.append(offset)
            packet.append(UInt32(length))
            try guarded { () throws(SFTPFailure) in try ssh.send(packet.finish(), cancellation: cancellation) }
            return Slot(id: id, offset: offset, length: length)
        }

        /// Hands on the replies at the front, in file order; those after the end are dropped.
        func deliverReady() {
            while let first = slots.first, first.data != nil || first.atEnd {
                slots.removeFirst()
                if first.atEnd { pastEnd = true }
                guard !pastEnd, failure == nil, let data = first.data, !data.isEmpty else { continue }
                do throws(SFTPFailure) {
                    try data.withBytes { bytes throws(SFTPFailure) in try consume(bytes) }
                    delivered += Int64(data.count)
                } catch {
                    failure = error
                }
            }
        }

        while true {
            while failure == nil && !reachedEnd && slots.count < Self.inFlight {
                slots.append(try request(offset: nextOffset, length: readLength))
                nextOffset += UInt64(readLength)
            }
            guard !slots.isEmpty else { break }
            let reply = try guarded { () throws(SFTPFailure) in
                try receive(cancellation: cancellation) { type, reader throws(SFTPFailure) -> (UInt32, [UInt8]?, SFTPFailure?) in
                    let id = try wire { () throws(SFTPProtocolError) in try reader.uint32() }
                    if type == SFTPMessage.data.rawValue {
                        return (id, Array(try wire { () throws(SFTPProtocolError) in try reader.stringBytes() }), nil)
                    }
                    guard type == SFTPMessage.status.rawValue else { throw .protocolViolation("READ was answered with type \(type)") }
                    let (code, message) = try wire { () throws(SFTPProtocolError) in (try reader.uint32(), try reader.string()) }
                    return (id, nil, code == SFTPStatusCode.endOfFile.rawValue ? nil : .status(code: code, message: message))
                }
            }
            guard let index = slots.firstIndex(where: { $0.id == reply.0 }) else {
                isBroken = true
                throw .protocolViolation("a reply to a read that was not sent (id \(reply.0))")
            }
            guard slots[index].data == nil && !slots[index].atEnd else {
                isBroken = true
                throw .protocolViolation("a second reply to read request \(reply.0)")
            }
            if let error = reply.2 {
                if failure == nil { failure = error }
                slots.remove(at: index)
                deliverReady()
                continue
            }
            // No data, or empty data (some servers answer a read past the end so): the end.
            guard let data = reply.1, !data.isEmpty else {
                // End of file at this offset: no more requests; those in flight are drained.
                slots[index].atEnd = true
                reachedEnd = true
                deliverReady()
                continue
            }
            guard data.count <= slots[index].length else {
                isBroken = true
                throw .protocolViolation("the server sent more than was asked for")
            }
            if data.count < slots[index].length && failure == nil {
                // A short read: ask for the rest right after it, before the slots that follow.
                let rest = try request(offset: slots[index].offset + UInt64(data.count), length: slots[index].length - data.count)
                slots.insert(rest, at: index + 1)
            }
            slots[index].data = data
            deliverReady()
        }
        if let failure { throw failure }
        return delivered
    }

    // MARK: - Plumbing

    private func takeID() -> UInt32 {
        defer { nextID &+= 1 }
        return nextID
    }

    /// Between calls: the server sent something nobody asked for, or the connection ended.
    var hasUnaskedInput: Bool { replyWaiting }

    /// Bytes of a reply are here already, buffered or readable without waiting.
    private var replyWaiting: Bool { end > start || ssh.hasInput }

    /// Sleeps, a second at most at a time, until `sent` bytes are due at `rate`.
    private func pace(sent: Int64, since started: ContinuousClock.Instant, rate: Int64, cancellation: CancellationFlag) throws(SFTPFailure) {
        let due = started + .nanoseconds(Int64(Double(sent) / Double(rate) * 1e9))
        while ContinuousClock.now < due {
            if cancellation.isRaised {
                isBroken = true
                throw .cancelled
            }
            let wait = min(due - ContinuousClock.now, .seconds(1))
            let (seconds, attoseconds) = wait.components
            var interval = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            _ = nanosleep(&interval, nil)
        }
    }

    /// Sends one request and reads its reply (the next packet, which must carry its id).
    private func call<T>(
        _ request: SFTPPacketWriter, cancellation: CancellationFlag, _ body: (UInt8, inout SFTPPacketReader) throws(SFTPFailure) -> T
    ) throws(SFTPFailure) -> T {
        var request = request
        let bytes = request.finish()
        let id = UInt32(bytes[5]) << 24 | UInt32(bytes[6]) << 16 | UInt32(bytes[7]) << 8 | UInt32(bytes[8])
        return try guarded { () throws(SFTPFailure) in
            try ssh.send(bytes, cancellation: cancellation)
            return try receive(cancellation: cancellation) { type, reader throws(SFTPFailure) -> T in
                let replyID = try wire { () throws(SFTPProtocolError) in try reader.uint32() }
                guard replyID == id else {
                    isBroken = true
                    throw .protocolViolation("a reply for request \(replyID) came when \(id) was expected")
                }
                if type == SFTPMessage.status.rawValue {
                    let (code, message) = try wire { () throws(SFTPProtocolError) in (try reader.uint32(), try reader.string()) }
                    throw .status(code: code, message: message)
                }
                return try body(type, &reader)
            }
        }
    }

    private func callExpectingOK(_ request: SFTPPacketWriter, cancellation: CancellationFlag) throws(SFTPFailure) {
        do throws(SFTPFailure) {
            try call(request, cancellation: cancellation) { type, _ throws(SFTPFailure) in
                throw .protocolViolation("a request expecting a status was answered with type \(type)")
            }
        } catch {
            if case .status(let code, _) = error, code == SFTPStatusCode.ok.rawValue { return }
            throw error
        }
    }

    /// The next reply, which must be a STATUS: its id, and the failure it reports (nil for OK).
    private func receiveStatus(cancellation: CancellationFlag) throws(SFTPFailure) -> (UInt32, SFTPFailure?) {
        try receive(cancellation: cancellation) { type, reader throws(SFTPFailure) in
            guard type == SFTPMessage.status.rawValue else { throw .protocolViolation("WRITE was answered with type \(type)") }
            let (id, code, message) = try wire { () throws(SFTPProtocolError) in (try reader.uint32(), try reader.uint32(), try reader.string()) }
            return (id, code == SFTPStatusCode.ok.rawValue ? nil : .status(code: code, message: message))
        }
    }

    private static func handle(_ type: UInt8, _ reader: inout SFTPPacketReader) throws(SFTPFailure) -> [UInt8] {
        guard type == SFTPMessage.handle.rawValue else { throw .protocolViolation("OPEN was answered with type \(type)") }
        let handle = try wire { () throws(SFTPProtocolError) in Array(try reader.stringBytes()) }
        guard handle.count <= 256 else { throw .protocolViolation("the server's handle is \(handle.count) bytes long (at most 256 are allowed)") }
        return handle
    }

    /// Reads the next packet and hands its type and fields to `body`, which must not keep them.
    private func receive<T>(cancellation: CancellationFlag, _ body: (UInt8, inout SFTPPacketReader) throws(SFTPFailure) -> T) throws(SFTPFailure) -> T {
        try fill(4, cancellation: cancellation)
        let length = Int(received[start]) << 24 | Int(received[start + 1]) << 16 | Int(received[start + 2]) << 8 | Int(received[start + 3])
        guard length >= 1 && length <= Self.maxPacketLength else {
            isBroken = true
            throw .protocolViolation("a reply of \(length) bytes (at most \(Self.maxPacketLength) are allowed)")
        }
        try fill(4 + length, cancellation: cancellation)
        let type = received[start + 4]
        var reader = SFTPPacketReader(received[(start + 5)..<(start + 4 + length)])
        start += 4 + length
        do throws(SFTPFailure) {
            return try body(type, &reader)
        } catch {
            if case .protocolViolation = error { isBroken = true }
            throw error
        }
    }

    /// Makes `count` bytes available from `start`, reading from ssh as needed.
    private func fill(_ count: Int, cancellation: CancellationFlag) throws(SFTPFailure) {
        while end - start < count {
            if start > 0 && received.count - start < count {
                // Move what is left to the front to make room.
                received.withUnsafeMutableBytes { bytes in
                    _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            let read = try guarded { () throws(SFTPFailure) in
                try received.withMutableBytes { bytes throws(SFTPFailure) in
                    try ssh.receive(into: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]), cancellation: cancellation)
                }
            }
            end += read
        }
    }

    /// Runs I/O with the server: any failure of it leaves the channel out of step.
    private func guarded<T>(_ body: () throws(SFTPFailure) -> T) throws(SFTPFailure) -> T {
        do throws(SFTPFailure) {
            return try body()
        } catch {
            switch error {
            case .status, .complete, .consumer, .listingTooLong, .localRead: break
            case .sshEnded(_, let stderr) where isEstablished:
                isBroken = true
                throw .connectionLost(stderr)
            default: isBroken = true
            }
            throw error
        }
    }
}

/// A field the server sent could not be read: a protocol violation.
private func wire<T>(_ body: () throws(SFTPProtocolError) -> T) throws(SFTPFailure) -> T {
    do throws(SFTPProtocolError) {
        return try body()
    } catch {
        throw .protocolViolation(error.description)
    }
}
