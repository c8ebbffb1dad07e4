import Foundation
import Synchronization

/// A non-blocking pipe used to interrupt a `poll()` waiting for notifications.
final class WakePipe: Sendable {
    private let descriptors: Mutex<(read: Int32, write: Int32)?>
    let readDescriptor: Int32

    init() throws(PostgresError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw PostgresError(code: .connectionFailed, message: "cannot create wake-up pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readDescriptor = fds[0]
        descriptors = Mutex((read: fds[0], write: fds[1]))
    }

    func wake() {
        descriptors.withLock { fds in
            guard let fds else { return }
            var byte: UInt8 = 1
            _ = write(fds.write, &byte, 1)
        }
    }

    func drain() {
        descriptors.withLock { fds in
            guard let fds else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(fds.read, &buffer, buffer.count) > 0 {}
        }
    }

    func close() {
        descriptors.withLock { fds in
            guard let open = fds else { return }
            Foundation.close(open.read)
            Foundation.close(open.write)
            fds = nil
        }
    }
}
