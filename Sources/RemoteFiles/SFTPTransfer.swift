import CCurl
import CurlSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The options, buffers and callbacks of one `curl_easy_perform` on a session's handle; lives
/// only for that call. The handle was reset just before, so every option is set here: the
/// connection stays in the handle's cache across resets and is reused when the next call's
/// options (host, user, keys) match.
struct SFTPTransfer {
    let handle: UnsafeMutableRawPointer
    let endpoint: SFTPEndpoint
    let request: SFTPRequest
    let cancellation: CancellationFlag

    /// The largest listing kept in memory; a directory with more names is refused, not a crash.
    static let maxListingBytes = 32 * 1024 * 1024

    func run() throws(SFTPFailure) -> SFTPOutcome {
        let state = SFTPTransferState(request: request, cancellation: cancellation)
        let context = Unmanaged.passUnretained(state).toOpaque()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: orchestrator_curl_error_size())
        errorBuffer.initialize(repeating: 0, count: orchestrator_curl_error_size())
        var quote: UnsafeMutablePointer<curl_slist>?
        var postQuote: UnsafeMutablePointer<curl_slist>?
        defer {
            // The handle must not point at freed memory should anyone use it again.
            _ = orchestrator_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            _ = orchestrator_curl_setopt_slist(handle, CURLOPT_QUOTE, nil)
            _ = orchestrator_curl_setopt_slist(handle, CURLOPT_POSTQUOTE, nil)
            curl_slist_free_all(quote)
            curl_slist_free_all(postQuote)
            errorBuffer.deallocate()
            withExtendedLifetime(state) {}
        }

        var failure: CURLcode = CURLE_OK
        func set(_ code: CURLcode) {
            if failure == CURLE_OK { failure = code }
        }
        let encodedPath = RemotePath.urlEncoded(request.path) + (request.isDirectory && !request.path.hasSuffix("/") ? "/" : "")
        let url = "sftp://\(endpoint.hostForURL):\(endpoint.port)\(encodedPath)"
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_URL, url))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "sftp"))
        // Signals for DNS timeouts are unsafe in a multi-threaded process.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(endpoint.connectTimeout)))
        // A stall limit instead of a total timeout: a large file at a low rate must not be cut off.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Self.milliseconds(endpoint.stallTimeout) / 1000)))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))

        // The login: the user outside the URL, a key only (never a password prompt), the pinned host key.
        set(orchestrator_curl_setopt_string(handle, CURLOPT_USERNAME, endpoint.user))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_SSH_AUTH_TYPES, orchestrator_curl_ssh_auth_publickey()))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_SSH_PRIVATE_KEYFILE, endpoint.privateKeyFile))
        // An empty string makes libssh2 derive the public key from the private one; unset,
        // libcurl would look for ~/.ssh/id_dsa.pub.
        set(orchestrator_curl_setopt_string(handle, CURLOPT_SSH_PUBLIC_KEYFILE, endpoint.publicKeyFile ?? ""))
        if let passphrase = endpoint.keyPassphrase { set(orchestrator_curl_setopt_string(handle, CURLOPT_KEYPASSWD, passphrase)) }
        set(orchestrator_curl_setopt_string(handle, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, endpoint.hostKeyBase64))
        // Backups are nobody else's business on a shared server.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NEW_FILE_PERMS, 0o600))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NEW_DIRECTORY_PERMS, 0o700))

        // libcurl says which host key the server offered only in its verbose text (its error
        // message has it from freed memory in 7.88); the debug callback keeps that line alone.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_VERBOSE, 1))
        set(orchestrator_curl_setopt_debug_function(handle, sftpDebugCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, context))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        set(orchestrator_curl_setopt_xferinfo_function(handle, sftpProgressCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
        set(orchestrator_curl_setopt_write_function(handle, sftpWriteCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(orchestrator_curl_setopt_read_function(handle, sftpReadCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_READDATA, context))

        for command in request.quote { quote = curl_slist_append(quote, command) }
        for command in request.postQuote { postQuote = curl_slist_append(postQuote, command) }
        if (!request.quote.isEmpty && quote == nil) || (!request.postQuote.isEmpty && postQuote == nil) {
            throw .curl(CurlError(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory building the request"), reachedServer: false)
        }
        if quote != nil { set(orchestrator_curl_setopt_slist(handle, CURLOPT_QUOTE, quote)) }
        if postQuote != nil { set(orchestrator_curl_setopt_slist(handle, CURLOPT_POSTQUOTE, postQuote)) }

        switch request.body {
        case .none:
            set(orchestrator_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case .listing:
            set(orchestrator_curl_setopt_long(handle, CURLOPT_DIRLISTONLY, 1))
        case .download:
            // Larger reads let libssh2 keep more requests in flight.
            set(orchestrator_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 256 * 1024))
        case .upload(_, let size), .stream(_, let size):
            set(orchestrator_curl_setopt_long(handle, CURLOPT_UPLOAD, 1))
            set(orchestrator_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size)))
            if request.createMissingDirectories {
                set(orchestrator_curl_setopt_long(handle, CURLOPT_FTP_CREATE_MISSING_DIRS, Int(CURLFTP_CREATE_DIR.rawValue)))
            }
            // Large buffers keep libssh2's pipeline full; under a rate limit small ones keep
            // the pace even instead of a burst and a pause per buffer.
            var buffer = 512 * 1024
            if let limit = request.maxSendBytesPerSecond {
                set(orchestrator_curl_setopt_off_t(handle, CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(limit)))
                buffer = Int(min(Int64(buffer), max(16 * 1024, limit / 16)))
            }
            set(orchestrator_curl_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, buffer))
        }
        guard failure == CURLE_OK else {
            throw .curl(CurlError.from(failure, buffer: errorBuffer, responseCode: nil), reachedServer: false)
        }

        if cancellation.isRaised { throw .cancelled }
        let code = curl_easy_perform(handle)
        if code != CURLE_OK {
            if state.readErrno != 0 { throw .localRead(state.readErrno) }
            if let consumerFailure = state.consumerFailure { throw consumerFailure }
            if state.listingTooLong { throw .listingTooLong }
            if code == CURLE_ABORTED_BY_CALLBACK && cancellation.isRaised { throw .cancelled }
            if code == CURLE_PEER_FAILED_VERIFICATION {
                let message = CurlError.from(code, buffer: errorBuffer, responseCode: nil).message
                throw .hostKeyMismatch(offered: state.offeredFingerprint ?? RemoteFileError.offeredFingerprint(in: message))
            }
            var pretransfer: curl_off_t = 0
            _ = orchestrator_curl_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
            throw .curl(CurlError.from(code, buffer: errorBuffer, responseCode: nil), reachedServer: pretransfer > 0)
        }
        var size: curl_off_t = -1
        _ = orchestrator_curl_getinfo_off_t(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &size)
        var outcome = SFTPOutcome(remoteSize: Int64(size), listing: state.listing)
        switch request.body {
        case .upload, .stream:
            outcome.bytes = state.uploaded
            request.progress?(state.uploaded)
        default:
            outcome.bytes = state.received
        }
        return outcome
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// What the callbacks read and write. Touched only by the thread running the transfer.
private final class SFTPTransferState {
    let cancellation: CancellationFlag
    let collectsListing: Bool
    let consumer: (@Sendable (UnsafeRawBufferPointer) throws -> Void)?
    let uploadDescriptor: Int32
    let producer: (@Sendable (UnsafeMutableRawBufferPointer) throws -> Int)?
    /// What a producer announced: a stream that ends short or runs over is refused, never
    /// committed under the target's name.
    let streamSize: Int64
    let progress: (@Sendable (Int64) -> Void)?
    var listing: [UInt8] = []
    var listingTooLong = false
    var received: Int64 = 0
    var uploaded: Int64 = 0
    var reported: Int64 = -1
    var readErrno: Int32 = 0
    var consumerFailure: SFTPFailure?
    /// The server's host key fingerprint (base64, unpadded), from libcurl's verbose text.
    var offeredFingerprint: String?

    init(request: SFTPRequest, cancellation: CancellationFlag) {
        self.cancellation = cancellation
        progress = request.progress
        if case .stream(let producer, let size) = request.body {
            self.producer = producer
            streamSize = size
        } else {
            producer = nil
            streamSize = -1
        }
        switch request.body {
        case .listing:
            collectsListing = true
            consumer = nil
            uploadDescriptor = -1
        case .download(let consumer):
            collectsListing = false
            self.consumer = consumer
            uploadDescriptor = -1
        case .upload(let descriptor, _):
            collectsListing = false
            consumer = nil
            uploadDescriptor = descriptor
        case .none, .stream:
            collectsListing = false
            consumer = nil
            uploadDescriptor = -1
        }
    }

    static func from(_ context: UnsafeMutableRawPointer?) -> SFTPTransferState {
        Unmanaged<SFTPTransferState>.fromOpaque(context!).takeUnretainedValue()
    }
}

/// Hands each chunk to the consumer (or the listing); returning less than given aborts the
/// transfer, which is how a throwing consumer or a cancel stops it.
private let sftpWriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    let state = SFTPTransferState.from(context)
    let total = size * count
    if state.cancellation.isRaised { return 0 }
    guard let data, total > 0 else { return total }
    let chunk = UnsafeRawBufferPointer(start: data, count: total)
    if state.collectsListing {
        guard state.listing.count + total <= SFTPTransfer.maxListingBytes else {
            state.listingTooLong = true
            return 0
        }
        state.listing.append(contentsOf: chunk)
    } else if let consumer = state.consumer {
        do {
            try consumer(chunk)
        } catch let error as RemoteFileError {
            state.consumerFailure = .complete(error)
            return 0
        } catch {
            state.consumerFailure = .consumer(String(describing: error))
            return 0
        }
    }
    state.received += Int64(total)
    return total
}

/// Reads the local file (or the producer's bytes) straight into libcurl's buffer: constant
/// memory whatever its size. A producer that throws aborts the transfer with its error.
private let sftpReadCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { buffer, size, count, context in
    let state = SFTPTransferState.from(context)
    if state.cancellation.isRaised { return Int(CURL_READFUNC_ABORT) }
    guard let buffer else { return 0 }
    if let producer = state.producer {
        do {
            let length = try producer(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
            let total = state.uploaded + Int64(length)
            guard total <= state.streamSize, length > 0 || total == state.streamSize else {
                state.consumerFailure = .consumer(total > state.streamSize
                    ? "the data to send runs past the \(state.streamSize) bytes announced"
                    : "the data to send ended at byte \(total) of the \(state.streamSize) announced")
                return Int(CURL_READFUNC_ABORT)
            }
            state.uploaded = total
            return length
        } catch let error as RemoteFileError {
            state.consumerFailure = .complete(error)
        } catch {
            state.consumerFailure = .consumer(String(describing: error))
        }
        return Int(CURL_READFUNC_ABORT)
    }
    guard state.uploadDescriptor >= 0 else { return 0 }
    while true {
        let length = read(state.uploadDescriptor, buffer, size * count)
        if length >= 0 {
            state.uploaded += Int64(length)
            return length
        }
        if errno == EINTR { continue }
        state.readErrno = errno
        return Int(CURL_READFUNC_ABORT)
    }
}

/// Called by libcurl about once a second and on every chunk; a non-zero return aborts.
private let sftpProgressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = { context, _, _, _, sent in
    let state = SFTPTransferState.from(context)
    if state.cancellation.isRaised { return 1 }
    if let progress = state.progress, Int64(sent) != state.reported {
        state.reported = Int64(sent)
        progress(Int64(sent))
    }
    return 0
}

/// Reads libcurl's verbose text for one line, "SSH SHA256 fingerprint: <base64>", and drops
/// everything else (data, headers, the other text) unread.
private let sftpDebugCallback: @convention(c) (UnsafeMutableRawPointer?, curl_infotype, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = { _, type, data, size, context in
    guard type == CURLINFO_TEXT, let data, size > 0 else { return 0 }
    let prefix = "SSH SHA256 fingerprint: "
    guard size > prefix.utf8.count, size < 256 else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    guard text.hasPrefix(prefix) else { return 0 }
    // Up to the padding or the line's end.
    let fingerprint = text.dropFirst(prefix.count).prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") }
    SFTPTransferState.from(context).offeredFingerprint = String(fingerprint)
    return 0
}
