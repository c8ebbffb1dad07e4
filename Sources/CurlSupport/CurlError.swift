import Foundation
import CCurl

/// A transfer that libcurl could not complete: no answer at all, as opposed to an answer with
/// a bad status (see `CurlResponse.statusCode`).
///
/// `message` is libcurl's own text (its error buffer when filled, else `curl_easy_strerror`).
/// It names hosts and ports but never the request path, headers or credentials; callers still
/// pass it through a `Redactor` before it leaves the module.
public struct CurlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The numeric `CURLcode` (e.g. 7 = could not connect, 28 = timed out).
    public let code: Int
    public let message: String
    /// The server's last status or reply code, when it answered before the transfer failed
    /// (an SMTP server refusing a recipient answers 550 and the transfer fails).
    public let responseCode: Int?

    public init(code: Int, message: String, responseCode: Int? = nil) {
        self.code = code
        self.message = message
        self.responseCode = responseCode
    }

    public var description: String {
        var text = "\(message) (curl error \(code)"
        if let responseCode, responseCode > 0 { text += ", server replied \(responseCode)" }
        return text + ")"
    }

    /// What a transfer stopped through its `CancellationFlag` throws.
    public static let cancelled = CurlError(code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue), message: "transfer cancelled")

    /// The transfer stopped because the caller cancelled it.
    public var isCancelled: Bool { code == Int(CURLE_ABORTED_BY_CALLBACK.rawValue) }

    /// The connection or the whole transfer took longer than its timeout.
    public var isTimedOut: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }

    /// Worth another attempt later: the network or the server may come back. Bad URLs,
    /// unsupported protocols, refused logins and TLS verification failures are not.
    public var isTransient: Bool {
        let transient: [CURLcode] = [
            CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
            CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
            CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_WEIRD_SERVER_REPLY, CURLE_AGAIN,
        ]
        return transient.contains { Int($0.rawValue) == code }
    }

    /// The error for `code`, with libcurl's error buffer as the message when it says more.
    public static func from(_ code: CURLcode, buffer: UnsafePointer<CChar>, responseCode: Int?) -> CurlError {
        let detail = String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return CurlError(code: Int(code.rawValue), message: text, responseCode: responseCode)
    }
}
