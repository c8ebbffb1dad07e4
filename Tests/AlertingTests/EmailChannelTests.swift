@testable import Alerting
import Foundation
import Logging
import Testing
import TestSupport

/// The e-mail channel against a local SMTP sink started by each test.
@Suite("E-mail alert channel")
struct EmailChannelTests {
    static var logger: Logger { HTTPChannelTests.logger }

    static let message = AlertMessage(
        alert: "backup-stale", title: "No verified backup for 40 h", severity: .warning,
        body: "Profile daily.\n.hidden line starts with a dot\n.\nthe line above is a single dot\r\nwindows line", host: "nuc"
    )

    @Test func aMessageArrivesWithItsEnvelopeHeadersAndIntactBody() async throws {
        let sink = try LocalSMTPServer(advertiseAuth: true)
        defer { sink.stop() }
        let channel = try EmailChannel(
            name: "ops-mail", smtpURL: "smtp://127.0.0.1:\(sink.port)", username: "alerts", password: "mail-pa55",
            from: "orchestrator@example.org", to: ["ops@example.org", "oncall@example.org"]
        )
        let report = await AlertDelivery.deliver(Self.message, via: channel, logger: Self.logger)
        #expect(report.delivered)
        #expect(report.attempts == 1)
        let mail = try #require(sink.received.first)
        #expect(sink.received.count == 1)
        #expect(mail.from == "orchestrator@example.org")
        #expect(mail.recipients == ["ops@example.org", "oncall@example.org"])
        #expect(mail.login == ["alerts", "mail-pa55"])
        #expect(mail.header("From") == "orchestrator@example.org")
        #expect(mail.header("To") == "ops@example.org, oncall@example.org")
        #expect(mail.header("Subject") == "[WARNING] No verified backup for 40 h")
        #expect(mail.header("X-Orchestrator-Alert") == "backup-stale")
        let messageID = try #require(mail.header("Message-ID"))
        #expect(messageID.hasPrefix("<") && messageID.hasSuffix("@example.org>"))
        let date = try #require(mail.header("Date"))
        let parser = DateFormatter()
        parser.locale = Locale(identifier: "en_US_POSIX")
        parser.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let sent = try #require(parser.date(from: date))
        #expect(abs(sent.timeIntervalSinceNow) < 60)
        #expect(mail.body.contains("Profile daily.\r\n.hidden line starts with a dot\r\n.\r\nthe line above is a single dot\r\nwindows line\r\n"))
        #expect(mail.body.contains("alert: backup-stale"))
    }

    @Test func renderedMessagesUseCRLFOnlyAndEncodeNonASCIISubjects() {
        let mail = MailMessage(
            from: "a@example.org", to: ["b@example.org"], subject: "Disk /srv voll — 95 %\nInjected: header", body: "one\ntwo\rthree\r\n" + String(repeating: "é", count: 600),
            date: Date(timeIntervalSince1970: 0), messageID: "<x@example.org>"
        )
        let bytes = mail.rendered()
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r"))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\nFrom: a@example.org\r\nTo: b@example.org\r\nSubject: =?UTF-8?B?"))
        #expect(!text.contains("\r\nInjected:"))
        #expect(text.contains("\r\n\r\none\r\ntwo\r\nthree\r\n"))
        #expect(text.split(separator: "\r\n").allSatisfy { $0.utf8.count <= MailMessage.maxLineBytes })
        #expect(text.hasSuffix("\r\n"))
    }

    @Test func aRefusedRecipientIsAPermanentFailure() async throws {
        let sink = try LocalSMTPServer(rejectRecipients: ["nobody@example.org"])
        defer { sink.stop() }
        let channel = try EmailChannel(name: "ops-mail", smtpURL: "smtp://127.0.0.1:\(sink.port)", from: "o@example.org", to: ["nobody@example.org"])
        let report = await AlertDelivery.deliver(Self.message, via: channel, policy: HTTPChannelTests.fast, logger: Self.logger)
        #expect(!report.delivered)
        #expect(report.attempts == 1)
        #expect(report.lastError?.statusCode == 550)
        #expect(report.lastError?.isTransient == false)
        #expect(sink.received.isEmpty)
    }

    @Test func anUnreachableServerIsRetriedAndRedacted() async throws {
        let port = try LocalSocketServer.closedPort()
        let channel = try EmailChannel(
            name: "ops-mail", smtpURL: "smtp://127.0.0.1:\(port)", username: "alerts", password: "mail-pa55", from: "o@example.org", to: ["p@example.org"]
        )
        let report = await AlertDelivery.deliver(Self.message, via: channel, policy: HTTPChannelTests.fast, logger: Self.logger)
        #expect(!report.delivered)
        #expect(report.attempts == 3)
        #expect(report.lastError?.curlCode == 7)
        #expect(report.lastError?.message.contains("mail-pa55") == false)
    }

    @Test func addressesAndURLsAreCheckedWhenTheChannelIsBuilt() {
        #expect(EmailChannel.isPlainAddress("ops@example.org"))
        for bad in ["ops", "@example.org", "ops@", "a b@example.org", "<ops@example.org>", "ops@example.org\r\nBcc: x@y", "a@b@c"] {
            #expect(!EmailChannel.isPlainAddress(bad))
        }
        #expect(throws: AlertDeliveryError.self) { try EmailChannel(name: "m", smtpURL: "http://x", from: "a@b.c", to: ["d@e.f"]) }
        #expect(throws: AlertDeliveryError.self) { try EmailChannel(name: "m", smtpURL: "smtp://x", from: "a@b.c", to: []) }
    }
}
