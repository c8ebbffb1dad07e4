/// The few elements this client reads from S3's XML answers, found by name.
///
/// Not a general XML parser: S3's answers are flat records of simple elements without
/// attributes, so a scanner for "<Name>text</Name>" is enough. It is strict all the same: an
/// element's text may not hold '<' and an unknown or malformed entity makes the text nil, so a
/// damaged answer is refused rather than misread.
enum S3XML {
    /// The inner text of every `<name>...</name>`, in order, still encoded.
    static func elements(_ name: String, in text: Substring) -> [Substring] {
        let open = "<\(name)>"
        let close = "</\(name)>"
        var found: [Substring] = []
        var rest = text[...]
        while let start = rest.range(of: open), let end = rest.range(of: close, range: start.upperBound..<rest.endIndex) {
            found.append(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
        }
        return found
    }

    /// The decoded text of the first `<name>`, nil when missing or malformed.
    static func text(_ name: String, in text: Substring) -> String? {
        elements(name, in: text).first.flatMap(decoded)
    }

    /// Element text with its five named entities and numeric references replaced.
    static func decoded(_ raw: Substring) -> String? {
        guard !raw.contains("<") else { return nil }
        var result = ""
        var rest = raw
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { return nil }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                guard entity.hasPrefix("#") else { return nil }
                let digits = entity.dropFirst()
                let value = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                guard let value, let scalar = Unicode.Scalar(value) else { return nil }
                result.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    /// `text` safe inside an element.
    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
