import CCurl
import CurlSupport

/// The options, buffers and callbacks of one `curl_easy_perform`; lives only for that call.
struct CurlTransfer {
    let handle: UnsafeMutableRawPointer
    let request: CurlRequest
    let cancellation: CancellationFlag

    func run() throws(CurlError) -> CurlResponse {
        let state = TransferState(upload: request.body, limit: request.maxResponseBytes, cancellation: cancellation)
        let context = Unmanaged.passUnretained(state).toOpaque()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: orchestrator_curl_error_size())
        errorBuffer.initialize(repeating: 0, count: orchestrator_curl_error_size())
        var headers: UnsafeMutablePointer<curl_slist>?
        var recipients: UnsafeMutablePointer<curl_slist>?
        defer {
            // The handle must not point at freed memory should anyone use it again.
            _ = orchestrator_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            _ = orchestrator_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
            _ = orchestrator_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, nil)
            curl_slist_free_all(headers)
            curl_slist_free_all(recipients)
            errorBuffer.deallocate()
            withExtendedLifetime(state) {}
        }

        var failure: CURLcode = CURLE_OK
        func set(_ code: CURLcode) {
            if failure == CURLE_OK { failure = code }
        }
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_URL, request.url))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, request.protocols.rawValue))
        // Signals for DNS timeouts are unsafe in a multi-threaded process.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout)))
        set(orchestrator_curl_setopt_write_function(handle, writeCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(orchestrator_curl_setopt_read_function(handle, readCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_READDATA, context))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        set(orchestrator_curl_setopt_xferinfo_function(handle, progressCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
        if let username = request.username { set(orchestrator_curl_setopt_string(handle, CURLOPT_USERNAME, username)) }
        if let password = request.password { set(orchestrator_curl_setopt_string(handle, CURLOPT_PASSWORD, password)) }
        if let caFile = request.caFile { set(orchestrator_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        if request.certificateExpiry {
            set(orchestrator_curl_setopt_long(handle, CURLOPT_CERTINFO, 1))
            set(orchestrator_curl_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1))
        }
        if request.security == .startTLS {
            set(orchestrator_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)))
        }

        if let mail = request.mail {
            set(orchestrator_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>"))
            for recipient in mail.recipients { recipients = curl_slist_append(recipients, "<\(recipient)>") }
            set(orchestrator_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients))
            set(orchestrator_curl_setopt_long(handle, CURLOPT_UPLOAD, 1))
            set(orchestrator_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count)))
        } else {
            // An empty `Expect:` stops libcurl from waiting for `100 Continue` before the body.
            for line in request.headers + ["Expect:"] { headers = curl_slist_append(headers, line) }
            set(orchestrator_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers))
            // A redirect is an answer to report, not a place to go (it may lead anywhere).
            set(orchestrator_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
            switch request.method {
            case .post:
                set(orchestrator_curl_setopt_long(handle, CURLOPT_POST, 1))
                set(orchestrator_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            case .get:
                set(orchestrator_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
            }
        }
        if (request.mail != nil && recipients == nil) || (request.mail == nil && headers == nil) {
            throw CurlError(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory building the request")
        }
        guard failure == CURLE_OK else {
            throw CurlError.from(failure, buffer: errorBuffer, responseCode: nil)
        }

        if cancellation.isRaised { throw CurlError.cancelled }
        let code = curl_easy_perform(handle)
        var status = 0
        _ = orchestrator_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        guard code == CURLE_OK else {
            if code == CURLE_ABORTED_BY_CALLBACK && cancellation.isRaised { throw CurlError.cancelled }
            throw CurlError.from(code, buffer: errorBuffer, responseCode: status == 0 ? nil : status)
        }
        var retryAfter: curl_off_t = 0
        _ = orchestrator_curl_getinfo_off_t(handle, CURLINFO_RETRY_AFTER, &retryAfter)
        var microseconds: curl_off_t = 0
        _ = orchestrator_curl_getinfo_off_t(handle, CURLINFO_TOTAL_TIME_T, &microseconds)
        return CurlResponse(
            statusCode: status, body: state.received, bodyTruncated: state.truncated,
            retryAfterSeconds: retryAfter > 0 ? Int(retryAfter) : nil, elapsed: .microseconds(Int64(max(0, microseconds))),
            certificateExpiry: request.certificateExpiry ? CertificateExpiry.leaf(of: handle) : nil
        )
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// Buffers the callbacks read and write. Touched only by the thread running the transfer.
private final class TransferState {
    let upload: [UInt8]
    var uploaded = 0
    var received: [UInt8] = []
    var truncated = false
    let limit: Int
    let cancellation: CancellationFlag

    init(upload: [UInt8], limit: Int, cancellation: CancellationFlag) {
        self.upload = upload
        self.limit = limit
        self.cancellation = cancellation
    }

    static func from(_ context: UnsafeMutableRawPointer?) -> TransferState {
        Unmanaged<TransferState>.fromOpaque(context!).takeUnretainedValue()
    }
}

/// Keeps at most `limit` bytes of the response and reads the rest to the end, so a long error
/// page neither fails the transfer nor fills memory.
private let writeCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    let state = TransferState.from(context)
    let total = size * count
    if state.cancellation.isRaised { return 0 }
    guard let data, total > 0 else { return total }
    let room = max(0, state.limit - state.received.count)
    let kept = min(room, total)
    if kept > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: kept) { state.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: kept)) }
    }
    if kept < total { state.truncated = true }
    return total
}

private let readCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { buffer, size, count, context in
    let state = TransferState.from(context)
    if state.cancellation.isRaised { return Int(CURL_READFUNC_ABORT) }
    guard let buffer else { return 0 }
    let length = min(size * count, state.upload.count - state.uploaded)
    guard length > 0 else { return 0 }
    state.upload.withUnsafeBufferPointer { source in
        UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + state.uploaded, byteCount: length)
    }
    state.uploaded += length
    return length
}

/// Called by libcurl about once a second and on every chunk; a non-zero return aborts.
private let progressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = { context, _, _, _, _ in
    TransferState.from(context).cancellation.isRaised ? 1 : 0
}
