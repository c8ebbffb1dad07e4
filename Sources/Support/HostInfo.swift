import Foundation

/// Facts about this host and process, for run records and alert senders.
package enum HostInfo {
    /// The kernel's host name (no DNS lookup).
    package static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `user@host` of this process, for `enqueued_by`.
    package static var userAtHost: String {
        let user: String
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            user = String(cString: name)
        } else {
            user = "uid\(geteuid())"
        }
        return "\(user)@\(hostName)"
    }
}
