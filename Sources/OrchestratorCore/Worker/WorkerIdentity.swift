import Foundation

/// Who is running a job: recorded on every run and every claimed job.
public struct WorkerIdentity: Sendable, Equatable {
    /// `host:pid:nonce`, unique across restarts that reuse a pid.
    public let id: String
    public let host: String
    public let pid: Int32

    public init(host: String = HostInfo.hostName, pid: Int32 = getpid()) {
        self.host = host
        self.pid = pid
        let nonce = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.id = "\(host):\(pid):\(nonce)"
    }
}

public enum HostInfo {
    /// The kernel's host name (no DNS lookup).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `user@host` of this process, for `enqueued_by`.
    public static var userAtHost: String {
        let user: String
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            user = String(cString: name)
        } else {
            user = "uid\(geteuid())"
        }
        return "\(user)@\(hostName)"
    }
}
