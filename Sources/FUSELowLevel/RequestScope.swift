internal import CFUSE
import Synchronization

/// One request while its operation runs. The reply frees libfuse's `fuse_req_t`, so the lazy
/// `supplementaryGroups` of a context that outlives its operation must not touch it any more.
final class RequestScope: Sendable {
    /// The request's address while the operation runs, nil once it has ended.
    private let request: Mutex<UInt?>

    init(_ request: fuse_req_t) {
        self.request = Mutex(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(request))))
    }

    /// The context libfuse recorded for the request, with lazily read supplementary groups.
    func context(of request: fuse_req_t) -> FUSERequestContext {
        let ctx = fuse_req_ctx(request).pointee
        return FUSERequestContext(
            uid: ctx.uid, gid: ctx.gid, pid: ctx.pid, umask: ctx.umask,
            supplementaryGroups: { [self] in supplementaryGroups() })
    }

    /// Marks the request as answered; called before the reply is sent.
    func end() {
        request.withLock { $0 = nil }
    }

    private func supplementaryGroups() -> [UInt32]? {
        // The lock is held during the read so that `end` (and so the reply) waits for it.
        request.withLock { address -> [UInt32]? in
            guard let address, let pointer = OpaquePointer(bitPattern: address) else { return nil }
            var groups = [gid_t](repeating: 0, count: 32)
            while true {
                let count = fuse_req_getgroups(pointer, Int32(groups.count), &groups)
                if count < 0 { return nil }
                if Int(count) <= groups.count { return Array(groups.prefix(Int(count))) }
                groups = [gid_t](repeating: 0, count: Int(count))
            }
        }
    }
}
