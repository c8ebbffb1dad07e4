import Hummingbird
import Synchronization

/// A rendered page or JSON document and its content type, as the page cache keeps it.
struct RenderedPage: Sendable {
    let contentType: String
    let body: ByteBuffer

    var response: Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: body))
    }
}

/// Each page (path and query) rendered at most once per `freshFor`, however many clients ask
/// for it at once: a refresh storm from several browsers costs the database and the renderer
/// one page a second. Only a page that rendered is kept (an error is answered fresh each
/// time); an action clears everything, so the page it redirects to shows its effect. At most
/// `maximumEntries` pages are held, so hostile query strings cannot grow it without bound.
final class PageCache: Sendable {
    static let maximumEntries = 64

    private let entries = Mutex<[String: CoalescedRead<RenderedPage>]>([:])
    let freshFor: Duration

    init(freshFor: Duration) {
        self.freshFor = freshFor
    }

    func page(_ request: Request, _ render: @escaping @Sendable () async throws -> RenderedPage) async throws -> Response {
        guard freshFor > .zero else { return try await render().response }
        let key = request.uri.description
        let entry = entries.withLock { entries -> CoalescedRead<RenderedPage> in
            if let entry = entries[key] { return entry }
            if entries.count >= Self.maximumEntries { entries.removeAll() }
            let entry = CoalescedRead<RenderedPage>(freshFor: freshFor)
            entries[key] = entry
            return entry
        }
        return try await entry.value(render).response
    }

    var count: Int { entries.withLock { $0.count } }

    func clear() {
        entries.withLock { $0.removeAll() }
    }
}
