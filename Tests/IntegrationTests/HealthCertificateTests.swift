import Alerting
import Foundation
@testable import Health
@testable import Settings
import Testing
import TestSupport

/// HTTPS checks record how many days the server's certificate has left, read by libcurl from
/// a real TLS handshake (`openssl s_server` with a certificate made for the test), and the
/// certificate is still verified.
@Suite("Certificate expiry of HTTPS checks")
struct HealthCertificateTests {
    /// A TLS server on 127.0.0.1 presenting a self-signed certificate valid for `days`.
    final class TLSServer {
        let directory: String
        let port: Int
        let process = Process()

        init(days: Int) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
                "-days", "\(days)", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
            port = try LoopbackPort.free()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory + "/cert.pem", "-key", directory + "/key.pem", "-www", "-quiet"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(10)
            while !LoopbackPort.accepts(port) {
                guard Date() < deadline, process.isRunning else { throw CocoaError(.fileReadUnknown) }
                usleep(50_000)
            }
        }

        var caFile: String { directory + "/cert.pem" }
        var url: String { "https://127.0.0.1:\(port)/" }

        func stop() {
            // Polled rather than waitUntilExit, which spins a run loop off the main thread.
            kill(process.processIdentifier, SIGKILL)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            try? FileManager.default.removeItem(atPath: directory)
        }

        static func run(_ tool: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            guard !process.isRunning, process.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
        }
    }

    @Test func anHTTPSCheckRecordsTheDaysItsCertificateHasLeft() async throws {
        let server = try TLSServer(days: 10)
        defer { server.stop() }
        let samples = await HTTPProbe.sample("shop", HTTPCheck(url: server.url, timeoutMs: 5000, caFile: server.caFile))
        let up = try #require(samples.first { $0.metric == "http.up" })
        #expect(up.value == 1, "\(up.message ?? "")")
        let days = try #require(samples.first { $0.metric == "http.cert_days_left" })
        #expect(days.unit == "days")
        #expect((9.8...10.1).contains(days.value ?? 0), "\(days.value ?? -1)")
        #expect(days.message?.hasPrefix("\(server.url): certificate expires 20") == true, "\(days.message ?? "")")

        // Ten days left is past the default warning (21 d), not yet critical (7 d).
        let rule = try #require(ThresholdRule.defaults.first { $0.metric == "http.cert_days_left" })
        #expect(rule.below && rule.warning == 21 && rule.critical == 7)
    }

    @Test func anUntrustedCertificateIsDownNotIgnored() async throws {
        let server = try TLSServer(days: 30)
        defer { server.stop() }
        let samples = await HTTPProbe.sample("shop", HTTPCheck(url: server.url, timeoutMs: 5000))
        let up = try #require(samples.first { $0.metric == "http.up" })
        #expect(up.value == 0 && up.status == .failed)
        #expect(up.message?.lowercased().contains("certificate") == true, "\(up.message ?? "")")
        #expect(!samples.contains { $0.metric == "http.cert_days_left" })
    }

    @Test func openSSLDatesParseWithAPaddedDay() {
        #expect(CertificateExpiry.parse("Jan  1 00:00:00 2027 GMT") == Date(timeIntervalSince1970: 1_798_761_600))
        #expect(CertificateExpiry.parse("Nov 30 12:00:00 2027 GMT") == Date(timeIntervalSince1970: 1_827_576_000))
        #expect(CertificateExpiry.parse("not a date") == nil)
    }
}
