import Foundation

/// The parts of a channel URL that may carry a secret: the user and password, every path
/// segment, every query value and the fragment, as written and percent-decoded (a server may
/// echo either). Scheme, host and port are not secret and stay readable in errors.
public enum URLSecrets {
    /// Shorter parts (`v1`, `api`) are left alone: they carry no secret and would mask ordinary
    /// words of every message.
    public static let minimumLength = 4

    public static func parts(of url: String) -> [String] {
        guard let components = URLComponents(string: url) else { return fallbackParts(of: url) }
        var parts: [String] = [components.percentEncodedUser, components.percentEncodedPassword, components.percentEncodedFragment]
            .compactMap { $0 }
        parts += components.percentEncodedPath.split(separator: "/").map(String.init)
        if let query = components.percentEncodedQuery {
            // Every value, and a bare item (`?TOKEN`) whole.
            for item in query.split(whereSeparator: { $0 == "&" || $0 == ";" }) {
                let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                parts.append(String(pieces.count == 2 ? pieces[1] : pieces[0]))
            }
        }
        return expanded(parts)
    }

    /// A URL that Foundation cannot parse: everything after the host is secret.
    private static func fallbackParts(of url: String) -> [String] {
        let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? url[...]
        let pieces = afterScheme.split(whereSeparator: { "/?&=#@:".contains($0) }).dropFirst()
        return expanded(pieces.map(String.init))
    }

    private static func expanded(_ parts: [String]) -> [String] {
        var result: [String] = []
        for part in parts {
            for form in [part, part.removingPercentEncoding, part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding] {
                if let form, form.count >= minimumLength, !result.contains(form) { result.append(form) }
            }
        }
        return result
    }
}
