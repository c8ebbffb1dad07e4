import Yams

/// Where in the file a YAML syntax error is: libyaml's mark (decoding errors name their key path).
enum YAMLLocation {
    /// `line 3, column 5`.
    static func text(_ mark: Mark) -> String { text(line: mark.line, column: mark.column) }

    static func text(line: Int, column: Int) -> String { "line \(line), column \(column)" }

    /// A syntax error (bad indentation, a tab, an unclosed quote or bracket, a repeated key)
    /// as a problem located by line and column. The file's text is never quoted back.
    static func error(_ error: YamlError) -> ConfigurationError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "not valid YAML: \(problem)"
            if let context { message += " (\(context.text) at \(text(context.mark)))" }
            return ConfigurationError(path: text(mark), message + "; check indentation (spaces, not tabs), quotes and brackets")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map(\.debugDescription).joined(separator: ", ")
            return ConfigurationError(path: text(context.mark), "key \(keys) appears more than once in the same mapping; keep one")
        case .reader(let problem, let offset, _, let yaml):
            let place = offset.map { position(atUTF8Offset: $0, in: yaml) }
            return ConfigurationError(path: place.map { text(line: $0.line, column: $0.column) } ?? "", "not readable as YAML text: \(problem)")
        default:
            return ConfigurationError(path: "", "not valid YAML: \(error)")
        }
    }

    /// Line and column (1-based, counted in Unicode scalars like libyaml) of a byte offset.
    static func position(atUTF8Offset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var consumed = 0
        for scalar in text.unicodeScalars {
            guard consumed < offset else { break }
            consumed += String(scalar).utf8.count
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}
