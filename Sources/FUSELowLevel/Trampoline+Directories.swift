internal import CFUSE
internal import Glibc

/// Directories: opendir, readdir and readdirplus, releasedir and fsyncdir.
extension Trampoline {
    static func opendir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        respond(req, "opendir") { fs, ctx in
            try fs.opendir(ctx, ino: ino, flags: fi?.pointee.flags ?? 0)
        } reply: { req, options in
            replyOpen(req, options, fi)
        }
    }

    /// Packs the entries the filesystem adds into a buffer of the kernel's `size` and sends it.
    static func readdir(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ offset: off_t,
        _ fi: UnsafeMutablePointer<fuse_file_info>?, plus: Bool
    ) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { storage.deallocate() }
        respond(req, plus ? "readdirplus" : "readdir") { fs, ctx in
            var packer = DirectoryPacker(storage: storage, plus: plus)
            try fs.readdir(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, offset: Int64(offset), plus: plus) { entry in
                packer.add(entry, for: req)
            }
            if let failure = packer.failure { throw failure }
            return packer.used
        } reply: { req, used in
            fuse_reply_buf(req, storage.baseAddress?.assumingMemoryBound(to: CChar.self), used)
        }
    }

    static func releasedir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        respond(req, "releasedir") { fs, ctx in
            try fs.releasedir(ctx, ino: ino, handle: fi?.pointee.fh ?? 0)
        }
    }

    static func fsyncdir(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ dataOnly: Int32, _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "fsyncdir") { fs, ctx in
            try fs.fsyncdir(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, dataOnly: dataOnly != 0)
        }
    }
}
