@testable import Alerting
import CurlSupport
import Foundation
import Testing
import TestSupport

/// The libcurl transfer layer: timeouts, cancellation, bounded bodies, a handle's lifecycle.
@Suite("libcurl transport")
struct CurlTransportTests {
    @Test func aSilentServerTimesOutAsATransientError() async throws {
        let silent = try SilentSocketServer()
        defer { silent.stop() }
        let request = CurlRequest(url: "http://127.0.0.1:\(silent.port)/", body: Array("{}".utf8), connectTimeout: .seconds(1), timeout: .milliseconds(500))
        let error = await #expect(throws: CurlError.self) { try await CurlTransport().perform(request) }
        #expect(error?.code == 28)
        #expect(error?.isTimedOut == true)
        #expect(error?.isTransient == true)
    }

    @Test func cancellingTheTaskAbortsARunningTransfer() async throws {
        let silent = try SilentSocketServer()
        defer { silent.stop() }
        let request = CurlRequest(url: "http://127.0.0.1:\(silent.port)/", body: Array("{}".utf8), timeout: .seconds(30))
        let start = ContinuousClock.now
        let task = Task { try await CurlTransport().perform(request) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        #expect(throws: CurlError.cancelled) { try result.get() }
        // libcurl polls the progress callback at least once a second.
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func onlyTheFirstBytesOfALongAnswerAreKept() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 500, body: String(repeating: "x", count: 100_000))])
        defer { server.stop() }
        let response = try await CurlTransport().perform(CurlRequest(url: server.baseURL + "/", body: [], maxResponseBytes: 1000))
        #expect(response.statusCode == 500)
        #expect(response.body.count == 1000)
        #expect(response.bodyTruncated)
    }

    @Test func aGetSendsNoBodyFollowsNoRedirectAndIsTimed() async throws {
        let server = try LocalHTTPServer(responses: [.init(status: 302, headers: ["Location": "/next"])])
        defer { server.stop() }
        let response = try await CurlTransport().perform(CurlRequest(url: server.baseURL + "/start", method: .get, body: Array("ignored".utf8)))
        #expect(response.statusCode == 302)
        #expect(response.elapsed > .zero && response.elapsed < .seconds(5))
        #expect(server.requests.map(\.path) == ["/start"])
        #expect(server.requests.first?.method == "GET" && server.requests.first?.body.isEmpty == true)
    }

    @Test func aRequestOutsideTheAllowedProtocolsIsRefused() async throws {
        let error = await #expect(throws: CurlError.self) {
            try await CurlTransport().perform(CurlRequest(url: "file:///etc/passwd", protocols: .http))
        }
        #expect(error?.code == 1)
        #expect(error?.isTransient == false)
    }

    @Test func closingAHandleTwiceIsSafe() throws {
        let handle = try CurlEasyHandle()
        #expect(!handle.isClosed)
        handle.close()
        handle.close()
        #expect(handle.isClosed)
        #expect(throws: CurlError.self) { try handle.perform(CurlRequest(url: "http://127.0.0.1/"), cancellation: CancellationFlag()) }
    }
}
