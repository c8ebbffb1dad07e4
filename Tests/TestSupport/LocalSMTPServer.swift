import Foundation
import Synchronization

/// A tiny SMTP sink on 127.0.0.1: speaks EHLO/HELO, AUTH PLAIN, MAIL FROM, RCPT TO, DATA, RSET,
/// NOOP and QUIT, and records each accepted message with its envelope. Leading dots of the
/// DATA lines are un-stuffed as RFC 5321 says, so `data` is the message as the client meant it.
public final class LocalSMTPServer: Sendable {
    public struct Message: Sendable {
        public let from: String
        public let recipients: [String]
        /// The message (headers and body) with CRLF line endings.
        public let data: String
        /// `username`, `password` from AUTH PLAIN, when the client logged in.
        public let login: [String]?

        /// A header's value (first occurrence, unfolded).
        public func header(_ name: String) -> String? {
            let head = data.components(separatedBy: "\r\n\r\n").first ?? ""
            let unfolded = head.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: " ")
            for line in unfolded.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }

        public var body: String {
            guard let range = data.range(of: "\r\n\r\n") else { return "" }
            return String(data[range.upperBound...])
        }
    }

    private let messages = Locked<[Message]>([])
    private let server: Mutex<LocalSocketServer?> = Mutex(nil)
    public let port: Int

    /// - Parameters:
    ///   - advertiseAuth: offer `AUTH PLAIN` in the EHLO answer.
    ///   - rejectRecipients: answer `550` to these RCPT TO addresses.
    public init(advertiseAuth: Bool = false, rejectRecipients: Set<String> = []) throws {
        let messages = self.messages
        let socketServer = try LocalSocketServer { connection in
            Self.converse(connection, advertiseAuth: advertiseAuth, rejectRecipients: rejectRecipients) { message in
                messages.withLock { $0.append(message) }
            }
        }
        self.port = socketServer.port
        server.withLock { $0 = socketServer }
    }

    deinit { stop() }

    public var received: [Message] { messages.withLock { $0 } }

    public func stop() {
        let running = server.withLock { server -> LocalSocketServer? in
            defer { server = nil }
            return server
        }
        running?.stop()
    }

    private static func converse(
        _ connection: SocketConnection, advertiseAuth: Bool, rejectRecipients: Set<String>, deliver: (Message) -> Void
    ) {
        var from: String?
        var recipients: [String] = []
        var login: [String]?
        func address(_ argument: Substring) -> String {
            String(argument.drop { $0 != "<" }.dropFirst().prefix { $0 != ">" })
        }
        func decodePlain(_ text: String) -> [String]? {
            guard let data = Data(base64Encoded: text) else { return nil }
            let parts = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            return parts.count == 3 ? [parts[1], parts[2]] : nil
        }
        connection.write("220 localhost ESMTP test sink\r\n")
        while let line = connection.readLine() {
            let verb = line.prefix { $0 != " " && $0 != ":" }.uppercased()
            switch verb {
            case "EHLO":
                connection.write(advertiseAuth ? "250-localhost\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n" : "250-localhost\r\n250 8BITMIME\r\n")
            case "HELO":
                connection.write("250 localhost\r\n")
            case "AUTH":
                let words = line.split(separator: " ")
                var initial = words.count >= 3 ? String(words[2]) : nil
                if initial == nil {
                    connection.write("334 \r\n")
                    initial = connection.readLine()
                }
                login = initial.flatMap(decodePlain)
                connection.write(login == nil ? "535 5.7.8 bad credentials\r\n" : "235 2.7.0 authenticated\r\n")
            case "MAIL":
                from = address(line.dropFirst(4))
                recipients = []
                connection.write("250 2.1.0 ok\r\n")
            case "RCPT":
                let recipient = address(line.dropFirst(4))
                if rejectRecipients.contains(recipient) {
                    connection.write("550 5.1.1 no such user\r\n")
                } else {
                    recipients.append(recipient)
                    connection.write("250 2.1.5 ok\r\n")
                }
            case "DATA":
                connection.write("354 end with <CRLF>.<CRLF>\r\n")
                var lines: [String] = []
                while let dataLine = connection.readLine(), dataLine != "." {
                    lines.append(dataLine.hasPrefix(".") ? String(dataLine.dropFirst()) : dataLine)
                }
                deliver(Message(from: from ?? "", recipients: recipients, data: lines.joined(separator: "\r\n") + "\r\n", login: login))
                connection.write("250 2.0.0 queued\r\n")
            case "RSET":
                from = nil
                recipients = []
                connection.write("250 ok\r\n")
            case "NOOP":
                connection.write("250 ok\r\n")
            case "QUIT":
                connection.write("221 bye\r\n")
                return
            default:
                connection.write("502 5.5.2 command not recognized\r\n")
            }
        }
    }
}
