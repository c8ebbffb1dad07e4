/// Quoting for identifiers that come from configuration or the command line.
public enum SQLIdentifier {
    /// `quote_ident` semantics, always quoted: `trades` -> `"trades"`, `a"b` -> `"a""b"`.
    /// Rejects empty names, NUL bytes and names longer than PostgreSQL's 63-byte limit
    /// (which the server would silently truncate into a different name).
    public static func quoted(_ name: String) throws(PostgresError) -> String {
        guard !name.isEmpty else {
            throw PostgresError(code: .server, sqlState: "42602", message: "empty identifier")
        }
        guard !name.utf8.contains(0) else {
            throw PostgresError(code: .server, sqlState: "42602", message: "identifier contains a NUL byte")
        }
        guard name.utf8.count <= 63 else {
            throw PostgresError(code: .server, sqlState: "42622", message: "identifier longer than 63 bytes: \(name.prefix(20))...")
        }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A plain lower-case name (`[a-z_][a-z0-9_]*`, at most 63 bytes): what configuration accepts
    /// for names it creates, so they never need quoting by people typing SQL.
    public static func isPlain(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 63 else { return false }
        guard first == "_" || ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
