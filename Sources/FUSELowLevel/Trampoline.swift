internal import CFUSE
internal import Glibc

/// The C side of the binding: fills `fuse_lowlevel_ops` with functions that recover the filesystem
/// from the session's userdata, call the matching `FUSEFileSystem` method and send exactly one
/// `fuse_reply_*` per request (`fuse_reply_err` for a thrown errno, EIO for any other error).
///
/// The operation groups live in Trampoline+Entries, +Files, +Directories and +Xattr. Lock
/// operations (getlk, setlk, flock) stay NULL so the kernel handles locks locally.
enum Trampoline {
    /// The operation table handed to `fuse_session_new`, which copies it.
    static func operations() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, connection in Trampoline.initialize(userdata, connection) }
        ops.destroy = { userdata in Trampoline.destroy(userdata) }

        ops.lookup = { req, parent, name in Trampoline.lookup(req, parent, name) }
        ops.forget = { req, ino, lookups in Trampoline.forget(req, ino, lookups) }
        ops.forget_multi = { req, count, forgets in Trampoline.forgetMulti(req, count, forgets) }
        ops.getattr = { req, ino, fi in Trampoline.getattr(req, ino, fi) }
        ops.setattr = { req, ino, attr, toSet, fi in Trampoline.setattr(req, ino, attr, toSet, fi) }
        ops.readlink = { req, ino in Trampoline.readlink(req, ino) }
        ops.mknod = { req, parent, name, mode, rdev in Trampoline.mknod(req, parent, name, mode, rdev) }
        ops.mkdir = { req, parent, name, mode in Trampoline.mkdir(req, parent, name, mode) }
        ops.unlink = { req, parent, name in Trampoline.unlink(req, parent, name) }
        ops.rmdir = { req, parent, name in Trampoline.rmdir(req, parent, name) }
        ops.symlink = { req, target, parent, name in Trampoline.symlink(req, target, parent, name) }
        ops.rename = { req, parent, name, newParent, newName, flags in
            Trampoline.rename(req, parent, name, newParent, newName, flags)
        }
        ops.link = { req, ino, newParent, newName in Trampoline.link(req, ino, newParent, newName) }
        ops.statfs = { req, ino in Trampoline.statfs(req, ino) }
        ops.access = { req, ino, mask in Trampoline.access(req, ino, mask) }

        ops.open = { req, ino, fi in Trampoline.open(req, ino, fi) }
        ops.read = { req, ino, size, offset, fi in Trampoline.read(req, ino, size, offset, fi) }
        ops.write = { req, ino, buf, size, offset, fi in Trampoline.write(req, ino, buf, size, offset, fi) }
        ops.flush = { req, ino, fi in Trampoline.flush(req, ino, fi) }
        ops.release = { req, ino, fi in Trampoline.release(req, ino, fi) }
        ops.fsync = { req, ino, dataOnly, fi in Trampoline.fsync(req, ino, dataOnly, fi) }
        ops.create = { req, parent, name, mode, fi in Trampoline.create(req, parent, name, mode, fi) }
        ops.fallocate = { req, ino, mode, offset, length, fi in
            Trampoline.fallocate(req, ino, mode, offset, length, fi)
        }
        ops.lseek = { req, ino, offset, whence, fi in Trampoline.lseek(req, ino, offset, whence, fi) }

        ops.opendir = { req, ino, fi in Trampoline.opendir(req, ino, fi) }
        ops.readdir = { req, ino, size, offset, fi in Trampoline.readdir(req, ino, size, offset, fi, plus: false) }
        ops.readdirplus = { req, ino, size, offset, fi in
            Trampoline.readdir(req, ino, size, offset, fi, plus: true)
        }
        ops.releasedir = { req, ino, fi in Trampoline.releasedir(req, ino, fi) }
        ops.fsyncdir = { req, ino, dataOnly, fi in Trampoline.fsyncdir(req, ino, dataOnly, fi) }

        ops.setxattr = { req, ino, name, value, size, flags in
            Trampoline.setxattr(req, ino, name, value, size, flags)
        }
        ops.getxattr = { req, ino, name, size in Trampoline.getxattr(req, ino, name, size) }
        ops.listxattr = { req, ino, size in Trampoline.listxattr(req, ino, size) }
        ops.removexattr = { req, ino, name in Trampoline.removexattr(req, ino, name) }
        return ops
    }

    /// Runs `operation`, then sends `reply` with its value or `fuse_reply_err` with what it threw:
    /// exactly one reply either way. `reply` must call exactly one `fuse_reply_*` and return its result.
    static func respond<Value>(
        _ req: fuse_req_t?, _ name: StaticString,
        _ operation: (any FUSEFileSystem, FUSERequestContext) throws -> Value,
        reply: (fuse_req_t, Value) -> Int32
    ) {
        guard let req else { return }
        let fileSystem = SessionUserdata.from(fuse_req_userdata(req)).fileSystem
        let scope = RequestScope(req)
        let result = Result { try operation(fileSystem, scope.context(of: req)) }
        scope.end()
        switch result {
        case .success(let value):
            _ = reply(req, value)
        case .failure(let error):
            _ = fuse_reply_err(req, errno(for: error, in: name))
        }
    }

    /// `respond` for operations whose success reply is `fuse_reply_err(req, 0)`.
    static func respond(
        _ req: fuse_req_t?, _ name: StaticString, _ operation: (any FUSEFileSystem, FUSERequestContext) throws -> Void
    ) {
        respond(req, name, operation) { req, _ in fuse_reply_err(req, 0) }
    }

    /// The errno sent for `error`: its own for a `FUSEError`, EIO (logged) for anything else.
    static func errno(for error: any Error, in operation: StaticString) -> Int32 {
        if let error = error as? FUSEError {
            if error.errno > 0 { return error.errno }
            Diagnostics.log("\(operation) threw FUSEError(\(error.errno)), which is no errno; replying EIO")
            return EIO
        }
        Diagnostics.log("\(operation) failed: \(error); replying EIO")
        return EIO
    }

    /// The bytes of a NUL-terminated name from libfuse, not assumed to be UTF-8.
    static func bytes(_ name: UnsafePointer<CChar>?) -> [UInt8] {
        guard let name else { return [] }
        return Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
    }

    /// Calls `body` with `bytes` as a NUL-terminated C string.
    static func withCString<Result>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            buffer[bytes.count] = 0
            return body(UnsafePointer(buffer.baseAddress!))
        }
    }

    private static func initialize(_ userdata: UnsafeMutableRawPointer?, _ conn: UnsafeMutablePointer<fuse_conn_info>?) {
        guard let userdata, let conn else { return }
        let fileSystem = SessionUserdata.from(userdata).fileSystem
        conn.pointee.max_write = 1 << 20
        var connection = FUSEConnection(conn.pointee)
        fileSystem.initialize(&connection)
        connection.apply(to: &conn.pointee)
    }

    private static func destroy(_ userdata: UnsafeMutableRawPointer?) {
        guard let userdata else { return }
        SessionUserdata.from(userdata).fileSystem.destroy()
    }
}
