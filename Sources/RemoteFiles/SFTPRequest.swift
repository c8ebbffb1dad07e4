import CurlSupport

/// One `curl_easy_perform` on a session's connection: the URL's remote path, what moves, and
/// the quote commands libcurl runs before (`quote`) and after (`postQuote`) the transfer.
///
/// A quote command is "mkdir", "rm", "rmdir" or "rename" with quoted absolute paths; a leading
/// '*' makes libcurl ignore its failure. Post-quote commands run only when the transfer succeeded.
struct SFTPRequest: Sendable {
    enum Body: Sendable {
        /// Nothing moves (CURLOPT_NOBODY): the quote commands alone, or a file's size.
        case none
        /// The directory's entry names (CURLOPT_DIRLISTONLY), one a line.
        case listing
        /// The file's bytes, chunk by chunk, to a consumer on the transfer's thread.
        case download(@Sendable (UnsafeRawBufferPointer) throws -> Void)
        /// An open local file (the caller closes it), read to its end.
        case upload(descriptor: Int32, size: Int64)
        /// Bytes a producer writes into libcurl's buffer on the transfer's thread (0: the end),
        /// `size` in all.
        case stream(@Sendable (UnsafeMutableRawBufferPointer) throws -> Int, size: Int64)
    }

    /// The absolute remote path; a directory for `.listing` (and for `.none` with quote commands only).
    var path: String
    var isDirectory = false
    var body: Body
    var quote: [String] = []
    var postQuote: [String] = []
    /// Uploads create the directories the path needs.
    var createMissingDirectories = false
    var maxSendBytesPerSecond: Int64?
    var progress: (@Sendable (Int64) -> Void)?
}

/// What a transfer moved.
struct SFTPOutcome: Sendable {
    /// Bytes read from the local file (upload) or handed to the consumer (download).
    var bytes: Int64 = 0
    /// The size libcurl learnt from the server's stat; -1 when it reported none (libcurl reports
    /// an empty file as -1 too).
    var remoteSize: Int64 = -1
    /// The listing's text for `.listing`.
    var listing: [UInt8] = []
}

/// How a transfer failed, before it is put in an operator's words (see `SFTPSession`).
enum SFTPFailure: Error, Sendable {
    /// libcurl's error; `reachedServer` when the SSH session was set up before it failed.
    case curl(CurlError, reachedServer: Bool)
    /// The server's host key is not the pinned one; `offered` is its fingerprint (base64,
    /// unpadded) when libcurl told it.
    case hostKeyMismatch(offered: String?)
    /// Reading the local file failed with this errno.
    case localRead(Int32)
    /// A failure with its message complete already (local files, a consumer's own error).
    case complete(RemoteFileError)
    /// The consumer of a download threw something else; its description.
    case consumer(String)
    case listingTooLong
    case cancelled
    case closed
}
