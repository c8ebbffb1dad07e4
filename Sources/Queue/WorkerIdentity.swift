import Foundation
import Support

/// Who is running a job: recorded on every run and every claimed job.
package struct WorkerIdentity: Sendable, Equatable {
    /// `host:pid:nonce`, unique across restarts that reuse a pid.
    package let id: String
    package let host: String
    package let pid: Int32

    package init(host: String = HostInfo.hostName, pid: Int32 = getpid()) {
        self.host = host
        self.pid = pid
        let nonce = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.id = "\(host):\(pid):\(nonce)"
    }
}
