import Foundation

/// What a queue may be called: `default`, `host:nuc-01`, `reports.slow`.
package enum QueueName {
    package static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 128 else { return false }
        let alphanumeric = CharacterSet.alphanumerics
        guard first.isASCII, alphanumeric.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (alphanumeric.contains($0) || "_.:-".unicodeScalars.contains($0)) }
    }
}
