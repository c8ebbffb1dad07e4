import CCurl
import CurlSupport

/// The options, buffers and callbacks of one `curl_easy_perform` on a session's handle; lives
/// only for that call. The handle was reset just before, so every option is set here; the
/// connection stays in the handle's cache and is reused by the next request to the same server.
struct S3Transfer {
    let handle: UnsafeMutableRawPointer
    let endpoint: S3Endpoint
    let request: S3Request
    let cancellation: CancellationFlag

    /// The largest answer kept in memory (a listing page is well under 1 MiB).
    static let maxCollectedBytes = 16 * 1024 * 1024

    func run() throws(S3Failure) -> S3Response {
        let state = S3TransferState(request: request, cancellation: cancellation)
        let context = Unmanaged.passUnretained(state).toOpaque()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: orchestrator_curl_error_size())
        errorBuffer.initialize(repeating: 0, count: orchestrator_curl_error_size())
        var headers: UnsafeMutablePointer<curl_slist>?
        defer {
            // The handle must not point at freed memory should anyone use it again.
            _ = orchestrator_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            _ = orchestrator_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, nil)
            curl_slist_free_all(headers)
            errorBuffer.deallocate()
            withExtendedLifetime(state) {}
        }

        var failure: CURLcode = CURLE_OK
        func set(_ code: CURLcode) {
            if failure == CURLE_OK { failure = code }
        }
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_URL, endpoint.objectURL(key: request.key, query: S3Key.query(request.query))))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        // Signals for DNS timeouts are unsafe in a multi-threaded process.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(endpoint.connectTimeout)))
        // A stall limit instead of a total timeout: a large object at a low rate must not be cut off.
        set(orchestrator_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Self.milliseconds(endpoint.stallTimeout) / 1000)))
        set(orchestrator_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        if let caFile = endpoint.caFile { set(orchestrator_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }

        // libcurl signs with SigV4 itself; the keys are options, never part of the URL.
        set(orchestrator_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, "aws:amz:\(endpoint.region):s3"))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_USERNAME, endpoint.accessKeyId))
        set(orchestrator_curl_setopt_string(handle, CURLOPT_PASSWORD, endpoint.secretAccessKey))
        // Bodies are streamed, so their hash is not known before they are sent; libcurl 7.88
        // signs this header's value as the payload hash. No "Expect:" header to turn off
        // 100-continue: libcurl 7.88 would sign "expect" while sending no such header.
        for line in ["x-amz-content-sha256: UNSIGNED-PAYLOAD"] {
            guard let appended = curl_slist_append(headers, line) else {
                throw .curl(CurlError(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "out of memory building the request"), reachedServer: false)
            }
            headers = appended
        }
        set(orchestrator_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers))

        set(orchestrator_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        set(orchestrator_curl_setopt_xferinfo_function(handle, s3ProgressCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
        set(orchestrator_curl_setopt_header_function(handle, s3HeaderCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        set(orchestrator_curl_setopt_write_function(handle, s3WriteCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(orchestrator_curl_setopt_read_function(handle, s3ReadCallback))
        set(orchestrator_curl_setopt_pointer(handle, CURLOPT_READDATA, context))

        switch request.body {
        case .none:
            set(orchestrator_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case .upload(_, let length):
            // CURLOPT_UPLOAD sends a PUT; CUSTOMREQUEST below turns it into a POST where needed.
            set(orchestrator_curl_setopt_long(handle, CURLOPT_UPLOAD, 1))
            set(orchestrator_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(length)))
            var buffer = 512 * 1024
            if let limit = request.maxSendBytesPerSecond {
                set(orchestrator_curl_setopt_off_t(handle, CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(limit)))
                buffer = Int(min(Int64(buffer), max(16 * 1024, limit / 16)))
            }
            set(orchestrator_curl_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, buffer))
        case .collect, .download:
            set(orchestrator_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 256 * 1024))
        }
        if request.method != "GET" && request.method != "HEAD" && request.method != "PUT" {
            set(orchestrator_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        guard failure == CURLE_OK else {
            throw .curl(CurlError.from(failure, buffer: errorBuffer, responseCode: nil), reachedServer: false)
        }

        if cancellation.isRaised { throw .cancelled }
        let code = curl_easy_perform(handle)
        if let sourceFailure = state.sourceFailure { throw sourceFailure }
        if code != CURLE_OK {
            if cancellation.isRaised || (code == CURLE_ABORTED_BY_CALLBACK && state.response.status == 0) { throw .cancelled }
            if state.response.status >= 300 { throw Self.statusFailure(state.response) }
            var pretransfer: curl_off_t = 0
            _ = orchestrator_curl_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
            throw .curl(CurlError.from(code, buffer: errorBuffer, responseCode: state.response.status > 0 ? state.response.status : nil), reachedServer: pretransfer > 0)
        }
        var status = 0
        _ = orchestrator_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        state.response.status = status
        guard (200..<300).contains(status) else { throw Self.statusFailure(state.response) }
        if case .upload = request.body { request.progress?(request.progressBase + state.response.bytes) }
        return state.response
    }

    /// The status with the `<Code>` and `<Message>` of S3's XML error body, when it has one.
    static func statusFailure(_ response: S3Response) -> S3Failure {
        let text = response.text
        return .status(response.status, code: S3XML.text("Code", in: text), message: S3XML.text("Message", in: text))
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// What the callbacks read and write. Touched only by the thread running the transfer.
private final class S3TransferState {
    let cancellation: CancellationFlag
    let request: S3Request
    var response = S3Response()
    /// Why a callback stopped the transfer: a source or consumer failure, a too long answer.
    var sourceFailure: S3Failure?
    var reported: Int64 = -1

    init(request: S3Request, cancellation: CancellationFlag) {
        self.request = request
        self.cancellation = cancellation
    }

    static func from(_ context: UnsafeMutableRawPointer?) -> S3TransferState {
        Unmanaged<S3TransferState>.fromOpaque(context!).takeUnretainedValue()
    }
}

/// Keeps the last status line's code and the headers after it (a "100 Continue" or a redirect
/// comes with its own status line, which starts the headers afresh).
private let s3HeaderCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    let state = S3TransferState.from(context)
    let total = size * count
    guard let data, total > 0 else { return total }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: total), as: UTF8.self).trimmingSuffixWhitespace()
    if line.hasPrefix("HTTP/") {
        let fields = line.split(separator: " ")
        state.response.status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
        state.response.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        state.response.headers[name] = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
    }
    return total
}

/// Hands each chunk of a successful GET to the consumer; keeps the body of an error answer (and
/// of `.collect` requests) for its XML. Returning less than given aborts the transfer.
private let s3WriteCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    let state = S3TransferState.from(context)
    let total = size * count
    if state.cancellation.isRaised { return 0 }
    guard let data, total > 0 else { return total }
    let chunk = UnsafeRawBufferPointer(start: data, count: total)
    if case .download(let consumer) = state.request.body, (200..<300).contains(state.response.status) {
        do {
            try consumer(chunk)
        } catch let error as RemoteFileError {
            state.sourceFailure = .complete(error)
            return 0
        } catch {
            state.sourceFailure = .consumer(String(describing: error))
            return 0
        }
        state.response.bytes += Int64(total)
        return total
    }
    guard state.response.body.count + total <= S3Transfer.maxCollectedBytes else {
        state.sourceFailure = .malformed("the answer is longer than \(S3Transfer.maxCollectedBytes / 1024 / 1024) MiB")
        return 0
    }
    state.response.body.append(contentsOf: chunk)
    return total
}

/// Takes the request's bytes from its source straight into libcurl's buffer, up to the
/// request's length: constant memory whatever the size.
private let s3ReadCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { buffer, size, count, context in
    let state = S3TransferState.from(context)
    if state.cancellation.isRaised { return Int(CURL_READFUNC_ABORT) }
    guard let buffer, case .upload(let source, let length) = state.request.body else { return 0 }
    do throws(S3Failure) {
        let filled = try source.fill(UnsafeMutableRawBufferPointer(start: buffer, count: size * count), limit: length - state.response.bytes)
        state.response.bytes += Int64(filled)
        return filled
    } catch {
        state.sourceFailure = error
        return Int(CURL_READFUNC_ABORT)
    }
}

/// Called by libcurl about once a second and on every chunk; a non-zero return aborts.
private let s3ProgressCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32 = { context, _, _, _, sent in
    let state = S3TransferState.from(context)
    if state.cancellation.isRaised { return 1 }
    if let progress = state.request.progress, sent > 0, Int64(sent) != state.reported {
        state.reported = Int64(sent)
        progress(state.request.progressBase + Int64(sent))
    }
    return 0
}

private extension String {
    func trimmingSuffixWhitespace() -> String {
        var text = self[...]
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
