internal import CFUSE
internal import Glibc

/// Extended attributes. getxattr and listxattr honour the caller's buffer size: 0 asks for the
/// length, a smaller buffer than the value gets ERANGE.
extension Trampoline {
    static func setxattr(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?,
        _ size: Int, _ flags: Int32
    ) {
        respond(req, "setxattr") { fs, ctx in
            let bytes = Array(UnsafeRawBufferPointer(start: value, count: value == nil ? 0 : size))
            try fs.setxattr(ctx, ino: ino, name: Trampoline.bytes(name), value: bytes, flags: flags)
        }
    }

    static func getxattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ size: Int) {
        respond(req, "getxattr") { fs, ctx in
            try fs.getxattr(ctx, ino: ino, name: bytes(name))
        } reply: { req, value in
            replyXattr(req, value, size: size)
        }
    }

    static func listxattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int) {
        respond(req, "listxattr") { fs, ctx in
            let names = try fs.listxattr(ctx, ino: ino)
            var list: [UInt8] = []
            for name in names {
                guard !name.isEmpty, !name.contains(0) else {
                    throw BindingError("listxattr of inode \(ino) returned an invalid name \(name)")
                }
                list += name
                list.append(0)
            }
            return list
        } reply: { req, list in
            replyXattr(req, list, size: size)
        }
    }

    static func removexattr(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ name: UnsafePointer<CChar>?) {
        respond(req, "removexattr") { fs, ctx in
            try fs.removexattr(ctx, ino: ino, name: bytes(name))
        }
    }

    /// The length for a size query, ERANGE for a buffer too small, else the bytes.
    private static func replyXattr(_ req: fuse_req_t, _ value: [UInt8], size: Int) -> Int32 {
        if size == 0 { return fuse_reply_xattr(req, value.count) }
        if value.count > size { return fuse_reply_err(req, ERANGE) }
        return value.withUnsafeBytes {
            fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count)
        }
    }
}
