internal import CFUSE
internal import Glibc

/// Names and attributes: lookup, forget, getattr, setattr, readlink, the namespace changes, statfs
/// and access.
extension Trampoline {
    static func lookup(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        respond(req, "lookup") { fs, ctx in
            try fs.lookup(ctx, parent: parent, name: bytes(name))
        } reply: { req, entry in
            replyEntry(req, entry)
        }
    }

    static func forget(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ lookups: UInt64) {
        guard let req else { return }
        SessionUserdata.from(fuse_req_userdata(req)).fileSystem.forget(ino, lookups: lookups)
        fuse_reply_none(req)
    }

    static func forgetMulti(_ req: fuse_req_t?, _ count: Int, _ forgets: UnsafeMutablePointer<fuse_forget_data>?) {
        guard let req else { return }
        let fileSystem = SessionUserdata.from(fuse_req_userdata(req)).fileSystem
        for forget in UnsafeBufferPointer(start: forgets, count: forgets == nil ? 0 : count) {
            fileSystem.forget(forget.ino, lookups: forget.nlookup)
        }
        fuse_reply_none(req)
    }

    static func getattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        respond(req, "getattr") { fs, ctx in
            try fs.getattr(ctx, ino: ino, handle: fi?.pointee.fh)
        } reply: { req, answer in
            var st = answer.0.cValue
            return fuse_reply_attr(req, &st, answer.timeout)
        }
    }

    static func setattr(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ attr: UnsafeMutablePointer<stat>?, _ toSet: Int32,
        _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "setattr") { fs, ctx in
            let changes = FUSESetAttributes(attr?.pointee ?? stat(), toSet: toSet, handle: fi?.pointee.fh)
            return try fs.setattr(ctx, ino: ino, changes)
        } reply: { req, answer in
            var st = answer.0.cValue
            return fuse_reply_attr(req, &st, answer.timeout)
        }
    }

    static func readlink(_ req: fuse_req_t?, _ ino: fuse_ino_t) {
        respond(req, "readlink") { fs, ctx in
            let target = try fs.readlink(ctx, ino: ino)
            guard !target.contains(0) else { throw BindingError("readlink of inode \(ino) returned a NUL byte") }
            return target
        } reply: { req, target in
            withCString(target) { fuse_reply_readlink(req, $0) }
        }
    }

    static func mknod(
        _ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t, _ rdev: dev_t
    ) {
        respond(req, "mknod") { fs, ctx in
            try fs.mknod(ctx, parent: parent, name: bytes(name), mode: mode, rdev: numericCast(rdev))
        } reply: { req, entry in
            replyEntry(req, entry)
        }
    }

    static func mkdir(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t) {
        respond(req, "mkdir") { fs, ctx in
            try fs.mkdir(ctx, parent: parent, name: bytes(name), mode: mode)
        } reply: { req, entry in
            replyEntry(req, entry)
        }
    }

    static func unlink(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        respond(req, "unlink") { fs, ctx in
            try fs.unlink(ctx, parent: parent, name: bytes(name))
        }
    }

    static func rmdir(_ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        respond(req, "rmdir") { fs, ctx in
            try fs.rmdir(ctx, parent: parent, name: bytes(name))
        }
    }

    static func symlink(
        _ req: fuse_req_t?, _ target: UnsafePointer<CChar>?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?
    ) {
        respond(req, "symlink") { fs, ctx in
            try fs.symlink(ctx, target: bytes(target), parent: parent, name: bytes(name))
        } reply: { req, entry in
            replyEntry(req, entry)
        }
    }

    static func rename(
        _ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ newParent: fuse_ino_t,
        _ newName: UnsafePointer<CChar>?, _ flags: UInt32
    ) {
        respond(req, "rename") { fs, ctx in
            try fs.rename(
                ctx, parent: parent, name: bytes(name), newParent: newParent, newName: bytes(newName), flags: flags)
        }
    }

    static func link(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ newParent: fuse_ino_t, _ newName: UnsafePointer<CChar>?
    ) {
        respond(req, "link") { fs, ctx in
            try fs.link(ctx, ino: ino, newParent: newParent, newName: bytes(newName))
        } reply: { req, entry in
            replyEntry(req, entry)
        }
    }

    static func statfs(_ req: fuse_req_t?, _ ino: fuse_ino_t) {
        respond(req, "statfs") { fs, ctx in
            try fs.statfs(ctx, ino: ino)
        } reply: { req, statistics in
            var st = statistics.cValue
            return fuse_reply_statfs(req, &st)
        }
    }

    static func access(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ mask: Int32) {
        respond(req, "access") { fs, ctx in
            try fs.access(ctx, ino: ino, mask: mask)
        }
    }

    /// Sends `entry` (or the cached absence, for ino 0) with fuse_reply_entry.
    static func replyEntry(_ req: fuse_req_t, _ entry: FUSEEntry) -> Int32 {
        var param = entry.cValue
        return fuse_reply_entry(req, &param)
    }
}
