import Foundation

/// One transfer to perform: an HTTP(S) POST or GET, or an SMTP(S) mail submission.
public struct CurlRequest: Sendable {
    /// The HTTP method. Redirects are never followed: the caller sees the 3xx status.
    public enum Method: Sendable, Equatable {
        /// Sends `body`.
        case post
        /// Sends no body (`body` is ignored); used to probe endpoints.
        case get
    }

    public enum Protocols: String, Sendable {
        case http = "http,https"
        case smtp = "smtp,smtps"
    }

    /// How TLS is required on a plain `smtp://` connection.
    public enum TransportSecurity: Sendable, Equatable {
        /// Whatever the URL scheme gives (`https`/`smtps`: TLS from the start).
        case byScheme
        /// `STARTTLS` is mandatory; the transfer fails rather than continue in clear text.
        case startTLS
    }

    /// The SMTP envelope; present only for mail.
    public struct MailEnvelope: Sendable, Equatable {
        public var from: String
        public var recipients: [String]

        public init(from: String, recipients: [String]) {
            self.from = from
            self.recipients = recipients
        }
    }

    public var url: String
    public var protocols: Protocols
    /// HTTP only; SMTP submissions ignore it.
    public var method: Method
    /// `Name: value` header lines (HTTP only).
    public var headers: [String]
    /// POSTed (HTTP) or uploaded as the message (SMTP).
    public var body: [UInt8]
    public var mail: MailEnvelope?
    public var security: TransportSecurity
    public var username: String?
    public var password: String?
    public var connectTimeout: Duration
    /// The whole transfer, connection included.
    public var timeout: Duration
    /// The response body is kept up to this many bytes; the rest is read and dropped.
    public var maxResponseBytes: Int
    /// Over a fresh TLS connection, reads the server certificate's expiry
    /// (`CurlResponse.certificateExpiry`); a reused connection would show no handshake.
    public var certificateExpiry = false
    /// PEM bundle of the certificate authorities to trust instead of the system's (an internal CA).
    public var caFile: String?

    public init(
        url: String, protocols: Protocols = .http, method: Method = .post, headers: [String] = [], body: [UInt8] = [], mail: MailEnvelope? = nil,
        security: TransportSecurity = .byScheme, username: String? = nil, password: String? = nil,
        connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(30), maxResponseBytes: Int = 16 * 1024
    ) {
        self.url = url
        self.protocols = protocols
        self.method = method
        self.headers = headers
        self.body = body
        self.mail = mail
        self.security = security
        self.username = username
        self.password = password
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// What the server answered.
public struct CurlResponse: Sendable, Equatable {
    /// The HTTP status, or the last SMTP reply code.
    public let statusCode: Int
    /// At most `maxResponseBytes` of the body.
    public let body: [UInt8]
    /// The server sent more than was kept.
    public let bodyTruncated: Bool
    /// `Retry-After` in seconds, when the server sent one.
    public let retryAfterSeconds: Int?
    /// From the start of the transfer (name resolution included) to its end, as libcurl measured it.
    public let elapsed: Duration
    /// The server certificate's "not after", when asked for over TLS and libcurl reported it.
    public let certificateExpiry: Date?

    public init(
        statusCode: Int, body: [UInt8], bodyTruncated: Bool = false, retryAfterSeconds: Int? = nil, elapsed: Duration = .zero,
        certificateExpiry: Date? = nil
    ) {
        self.statusCode = statusCode
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.retryAfterSeconds = retryAfterSeconds
        self.elapsed = elapsed
        self.certificateExpiry = certificateExpiry
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
