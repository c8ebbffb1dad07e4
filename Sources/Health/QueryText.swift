/// Query text of other sessions, made safe to store: string literals and dollar-quoted bodies
/// become `'…'`, so `ALTER ROLE app PASSWORD 'x'` never reaches a health row; then shortened.
enum QueryText {
    static func redacted(_ query: String, limit: Int = 200) -> String {
        var output = ""
        var scalars = Array(query.unicodeScalars)[...]
        while let scalar = scalars.first {
            if scalar == "'" {
                scalars = scalars.dropFirst()
                // A quote inside a literal is written twice ('it''s').
                while let next = scalars.first {
                    scalars = scalars.dropFirst()
                    if next == "'" {
                        if scalars.first == "'" { scalars = scalars.dropFirst() } else { break }
                    }
                }
                output += "'…'"
            } else if scalar == "$", let tag = dollarTag(scalars) {
                scalars = scalars.dropFirst(tag.count)
                if let end = find(tag, in: scalars) {
                    scalars = scalars[(end + tag.count)...]
                } else {
                    scalars = scalars[scalars.endIndex...]
                }
                output += "'…'"
            } else {
                output.unicodeScalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
                scalars = scalars.dropFirst()
            }
        }
        let collapsed = output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return collapsed.count > limit ? String(collapsed.prefix(limit - 1)) + "…" : collapsed
    }

    /// `$$` or `$tag$` at the start; `$1` (a parameter) is not a tag.
    private static func dollarTag(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar]? {
        var tag: [Unicode.Scalar] = ["$"]
        for scalar in scalars.dropFirst() {
            if scalar == "$" { return tag + ["$"] }
            guard scalar == "_" || scalar.properties.isAlphabetic || (tag.count > 1 && ("0"..."9").contains(scalar)) else { return nil }
            tag.append(scalar)
        }
        return nil
    }

    private static func find(_ tag: [Unicode.Scalar], in scalars: ArraySlice<Unicode.Scalar>) -> Int? {
        var index = scalars.startIndex
        while index + tag.count <= scalars.endIndex {
            if Array(scalars[index..<(index + tag.count)]) == tag { return index }
            index += 1
        }
        return nil
    }
}
