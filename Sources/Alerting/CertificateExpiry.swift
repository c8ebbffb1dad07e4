import CCurl
import Foundation

/// The expiry of the certificate a server presented, from libcurl's certificate information
/// (`CURLOPT_CERTINFO`): one list of `Name:value` lines per certificate of the chain, the
/// server's own first. OpenSSL prints the date as `Nov 30 12:00:00 2027 GMT` (day padded with
/// a space).
public enum CertificateExpiry {
    static func leaf(of handle: UnsafeMutableRawPointer) -> Date? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard orchestrator_curl_getinfo_certinfo(handle, &info) == CURLE_OK, let info, info.pointee.num_of_certs > 0,
              let chain = info.pointee.certinfo else { return nil }
        var line = chain[0]
        while let item = line {
            if let data = item.pointee.data {
                let text = String(cString: data)
                if text.hasPrefix("Expire date:") { return parse(String(text.dropFirst("Expire date:".count))) }
            }
            line = item.pointee.next
        }
        return nil
    }

    public static func parse(_ text: String) -> Date? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 5, words[4] == "GMT" else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy"
        return formatter.date(from: words[0..<4].joined(separator: " "))
    }
}
