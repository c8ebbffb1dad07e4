/// Text from the command line or a schedule that is shown back to people and stored (targets,
/// unique keys, text arguments) must read as it is: no control characters, no invisible format
/// characters (bidi overrides such as U+202E, zero-width spaces) and no line separators, which
/// would make a job look like another one in a terminal or a log.
package enum PrintableText {
    /// The first scalar that is not printable, if any.
    package static func firstUnprintable(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: true
            default: false
            }
        }
    }

    /// `U+202E`, for error messages that must not print the character itself.
    package static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// A reason to refuse `text`, or nil when every character is printable.
    package static func problem(in text: String) -> String? {
        firstUnprintable(in: text).map { "contains the invisible or control character \(codePoint($0)); use printable characters only" }
    }
}
