import CCurl

/// Facts about the linked libcurl; the alert channels build on this module.
public enum CurlLibrary {
    /// Version string reported by the linked libcurl, e.g. "libcurl/7.88.1 OpenSSL/3.0.15 ...".
    public static var version: String {
        guard let text = curl_version() else { return "libcurl (unknown version)" }
        return String(cString: text)
    }
}
