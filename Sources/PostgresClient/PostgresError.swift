import Foundation

/// An error from libpq or the PostgreSQL server.
///
/// `description` is safe to show to operators and to store: it carries the server's primary
/// message and SQLSTATE but never SQL text, parameters or connection passwords.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Code: String, Sendable {
        /// The connection could not be established.
        case connectionFailed
        /// The connection broke while in use (server restart, network failure).
        case connectionLost
        /// The connection was closed by this process.
        case connectionClosed
        /// The server rejected the statement (syntax, constraint, permission, ...).
        case server
        /// The server or libpq reported something the client does not understand.
        case protocolViolation
        /// A value in a result row could not be decoded into the requested Swift type.
        case decoding
        /// A statement expected to return exactly one row returned another number of rows.
        case unexpectedRowCount
    }

    public let code: Code
    /// Five-character SQLSTATE from the server, when the server sent one.
    public let sqlState: String?
    /// The server's (or libpq's) primary message, single line.
    public let message: String
    public let detail: String?
    public let hint: String?

    public init(code: Code, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = Self.singleLine(message)
        self.detail = detail.map(Self.singleLine)
        self.hint = hint.map(Self.singleLine)
    }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let hint { text += "; hint: \(hint)" }
        return text
    }

    public var debugDescription: String {
        var text = "PostgresError(code: \(code.rawValue), sqlState: \(sqlState ?? "-"), message: \(message)"
        if let detail { text += ", detail: \(detail)" }
        if let hint { text += ", hint: \(hint)" }
        return text + ")"
    }

    /// True when the session is unusable and a new connection is needed (class 08, admin shutdown, ...).
    public var isConnectionProblem: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .connectionClosed: return true
        case .server, .protocolViolation, .decoding, .unexpectedRowCount: break
        }
        guard let sqlState else { return false }
        // 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now.
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// The statement was cancelled (by `cancel()`, a statement timeout, or a user request).
    public var isQueryCanceled: Bool { sqlState == "57014" }

    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// The database named in the connection does not exist. libpq reports connection-time
    /// failures without a SQLSTATE, so the server's message is recognised too.
    public var isInvalidCatalog: Bool {
        sqlState == "3D000" || (code == .connectionFailed && message.contains("database \"") && message.contains("\" does not exist"))
    }

    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}
