import CCurl

/// Facts about the linked libcurl, and its one-time global initialisation.
public enum CurlLibrary {
    /// Version string reported by the linked libcurl, e.g. "libcurl/7.88.1 OpenSSL/3.0.15 ...".
    public static var version: String {
        guard let text = curl_version() else { return "libcurl (unknown version)" }
        return String(cString: text)
    }

    /// `curl_global_init` is not thread-safe and must run once before any handle exists; a
    /// `static let` gives exactly-once, thread-safe initialisation. It is never cleaned up:
    /// handles may live until the process exits.
    private static let initialization: CURLcode = orchestrator_curl_global_init()

    /// Initialises libcurl on first use; later calls return the first result.
    public static func ensureInitialized() throws(CurlError) {
        let code = initialization
        guard code == CURLE_OK else {
            throw CurlError(code: Int(code.rawValue), message: "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))")
        }
    }
}
