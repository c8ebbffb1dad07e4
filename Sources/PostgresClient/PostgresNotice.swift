import CLibPQ
import Synchronization

/// A NOTICE or WARNING the server sent while a statement ran. PostgreSQL reports some refusals
/// only this way (VACUUM of a table the role may not maintain is a WARNING "skipping ..." and
/// the statement succeeds), so they are kept for the caller instead of being dropped.
public struct PostgresNotice: Sendable, Equatable, CustomStringConvertible {
    /// `WARNING`, `NOTICE`, `INFO`, `LOG` or `DEBUG`, never translated.
    public let severity: String
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let hint: String?

    public init(severity: String, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.severity = severity
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    public var isWarning: Bool { severity == "WARNING" }

    public var description: String {
        var text = "\(severity): \(message)"
        if let hint { text += "; hint: \(hint)" }
        return text
    }

    /// Reads a notice out of the `PGresult` libpq hands to a notice receiver.
    static func from(_ result: OpaquePointer) -> PostgresNotice {
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: value)
        }
        return PostgresNotice(
            severity: field(UInt8(ascii: "V")) ?? field(UInt8(ascii: "S")) ?? "NOTICE",
            sqlState: field(UInt8(ascii: "C")),
            message: PostgresError.singleLine(field(UInt8(ascii: "M")) ?? ""),
            detail: field(UInt8(ascii: "D")).map(PostgresError.singleLine),
            hint: field(UInt8(ascii: "H")).map(PostgresError.singleLine)
        )
    }
}

/// The notices of one connection: kept (bounded) until the caller takes them, and passed to an
/// optional handler as they arrive. libpq calls the receiver on the thread running the
/// connection's libpq call, inside the call that read the notice; the buffer is owned by the connection and
/// outlives its `PGconn`.
final class NoticeBuffer: Sendable {
    private struct State {
        var notices: [PostgresNotice] = []
        var dropped = 0
        var handler: (@Sendable (PostgresNotice) -> Void)?
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 200) { self.capacity = capacity }

    func append(_ notice: PostgresNotice) {
        let handler = state.withLock { state -> (@Sendable (PostgresNotice) -> Void)? in
            state.notices.append(notice)
            if state.notices.count > capacity {
                state.notices.removeFirst()
                state.dropped += 1
            }
            return state.handler
        }
        handler?(notice)
    }

    func take() -> [PostgresNotice] {
        state.withLock { state in
            defer { state.notices = [] }
            return state.notices
        }
    }

    func setHandler(_ handler: (@Sendable (PostgresNotice) -> Void)?) {
        state.withLock { $0.handler = handler }
    }

    /// The C receiver: `argument` is this buffer, unretained (the connection keeps it alive).
    static let receiver: PQnoticeReceiver = { argument, result in
        guard let argument, let result else { return }
        Unmanaged<NoticeBuffer>.fromOpaque(argument).takeUnretainedValue().append(PostgresNotice.from(result))
    }
}
