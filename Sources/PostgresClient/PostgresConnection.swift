import BlockingWork
import CLibPQ
import Foundation
import Logging
import Synchronization

/// One libpq connection.
///
/// Every blocking libpq call runs through this connection's `BlockingSerialQueue`, one at a time
/// and in order, on a thread of the shared `BlockingExecutor` (the configuration's lane), never
/// on Swift's cooperative pool; callers `await` the result. The `PGconn` lives behind a `Mutex`
/// so `close()` from any thread is safe and idempotent, and `cancel()` can interrupt a running
/// statement from another task without waiting for the server (see `CancelSender`).
public final class PostgresConnection: Sendable {
    public let configuration: ConnectionConfiguration
    /// The server process serving this session (`pg_backend_pid()`), for `pg_stat_activity`.
    public let backendPID: Int32

    private let calls: BlockingSerialQueue
    private let handle: Mutex<LibPQPointer?>
    private let canceller: CancelSender
    private let wakePipe: WakePipe
    /// Notices the server sent on this session (see `takeNotices()`); owned here because
    /// libpq's receiver points at it until `PQfinish`.
    private let notices: NoticeBuffer
    /// SQL text -> server-side statement name, for statements prepared on this session.
    let preparedStatements = Mutex<[String: String]>([:])

    private init(configuration: ConnectionConfiguration, connection: OpaquePointer, calls: BlockingSerialQueue, notices: NoticeBuffer) throws(PostgresError) {
        self.configuration = configuration
        self.notices = notices
        self.calls = calls
        self.backendPID = PQbackendPID(connection)
        self.handle = Mutex(LibPQPointer(connection))
        self.canceller = CancelSender(key: CancelKey(connection: connection))
        self.wakePipe = try WakePipe()
    }

    deinit { close() }

    /// Opens a connection. Every session uses UTC and ISO dates so results parse the same way
    /// whatever the server's defaults are.
    public static func connect(_ configuration: ConnectionConfiguration) async throws -> PostgresConnection {
        try configuration.validate()
        let calls = BlockingSerialQueue(executor: configuration.executor, lane: configuration.lane)
        let notices = NoticeBuffer()
        let opened = try await calls.run { () throws(PostgresError) -> LibPQPointer in
            LibPQPointer(try openConnection(configuration, notices: notices))
        }
        let connection = opened.pointer
        let postgres: PostgresConnection
        do {
            postgres = try PostgresConnection(configuration: configuration, connection: connection, calls: calls, notices: notices)
        } catch {
            PQfinish(connection)
            throw error
        }
        try await postgres.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'")
        return postgres
    }

    private static func openConnection(_ configuration: ConnectionConfiguration, notices: NoticeBuffer) throws(PostgresError) -> OpaquePointer {
        var keywords = ["dbname", "fallback_application_name"]
        var values = [configuration.connectionString, configuration.applicationName]
        for (keyword, value) in configuration.overrides {
            keywords.append(keyword)
            values.append(value)
        }
        let cKeywords = keywords.map { strdup($0) }
        let cValues = values.map { strdup($0) }
        defer {
            cKeywords.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        var keywordPointers: [UnsafePointer<CChar>?] = cKeywords.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = cValues.map { UnsafePointer($0) } + [nil]
        // expand_dbname = 1: the first dbname may be a URL or conninfo string; later keywords override it.
        guard let connection = PQconnectdbParams(&keywordPointers, &valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "out of memory allocating a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(code: .connectionFailed, message: message.isEmpty ? "connection failed" : message)
        }
        // libpq prints NOTICE/WARNING messages to stderr by default. Some carry the only sign
        // that a statement did nothing (VACUUM "skipping ..."), so they are kept per connection.
        PQsetNoticeReceiver(connection, NoticeBuffer.receiver, Unmanaged.passUnretained(notices).toOpaque())
        return connection
    }

    /// The notices (WARNING, NOTICE, ...) received since the last call, oldest first; at most
    /// the newest 200 are kept.
    public func takeNotices() -> [PostgresNotice] { notices.take() }

    /// Calls `handler` for each notice as it arrives (on the thread running the connection's
    /// libpq call: keep it short, e.g. logging); nil removes it. Notices are also kept for `takeNotices()`.
    public func onNotice(_ handler: (@Sendable (PostgresNotice) -> Void)?) { notices.setHandler(handler) }

    /// Closes the connection. Safe to call more than once and from any thread.
    public func close() {
        canceller.close()
        wakePipe.wake()  // a notification wait holds the handle; let it return first
        handle.withLock { connection in
            if let connection { PQfinish(connection.pointer) }
            connection = nil
        }
        wakePipe.close()
    }

    public var isClosed: Bool { handle.withLock { $0 == nil } }

    /// Asks the server to cancel the statement running on this connection, if any. Returns at
    /// once: the request is sent from a thread of its own, so a server that does not answer
    /// cannot stall the caller.
    public func cancel() {
        canceller.request()
        wakePipe.wake()
    }

    /// Runs `body` with the raw connection, after the calls made before it, on a thread of the
    /// connection's lane. If the calling task is cancelled meanwhile, the running statement is
    /// cancelled on the server; a call still waiting for its turn is never sent and throws
    /// `CancellationError` (see `BlockingSerialQueue.run(cancellable:onCancel:)`).
    func perform<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(PostgresError) -> T) async throws -> T {
        let result = try await calls.run(cancellable: { () throws(PostgresError) -> T in
            try self.handle.withLock { (connection: inout LibPQPointer?) throws(PostgresError) -> T in
                guard let connection else {
                    throw PostgresError(code: .connectionClosed, message: "connection is closed")
                }
                return try body(connection.pointer)
            }
        }, onCancel: {
            self.cancel()
        })
        guard let result else { throw CancellationError() }
        return result
    }

    var wakeDescriptor: Int32 { wakePipe.readDescriptor }
    func cancelWait() { wakePipe.wake() }
    func drainWakeups() { wakePipe.drain() }
}

/// A `PGconn *`.
///
/// `@unchecked Sendable` because the pointer itself is only an address: a `PGconn` is used
/// solely by its connection's serial queue of calls while holding that connection's `handle` lock.
struct LibPQPointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
