internal import CFUSE
internal import Glibc

/// Open files: open, read, write, flush, release, fsync, create, fallocate and lseek.
extension Trampoline {
    static func open(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        respond(req, "open") { fs, ctx in
            try fs.open(ctx, ino: ino, flags: fi?.pointee.flags ?? 0)
        } reply: { req, options in
            replyOpen(req, options, fi)
        }
    }

    static func read(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ offset: off_t, _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "read") { fs, ctx in
            let data = try fs.read(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, offset: Int64(offset), size: size)
            guard data.count <= size else {
                throw BindingError("read of inode \(ino) returned \(data.count) bytes, more than the \(size) asked for")
            }
            return data
        } reply: { req, data in
            data.withUnsafeBytes { fuse_reply_buf(req, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count) }
        }
    }

    static func write(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ buf: UnsafePointer<CChar>?, _ size: Int, _ offset: off_t,
        _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "write") { fs, ctx in
            let data = UnsafeRawBufferPointer(start: buf, count: buf == nil ? 0 : size)
            let written = try fs.write(
                ctx, ino: ino, handle: fi?.pointee.fh ?? 0, offset: Int64(offset), data: data, flags: fi?.pointee.flags ?? 0)
            guard (0...size).contains(written) else {
                throw BindingError("write to inode \(ino) reported \(written) of \(size) bytes written")
            }
            return written
        } reply: { req, written in
            fuse_reply_write(req, written)
        }
    }

    static func flush(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        respond(req, "flush") { fs, ctx in
            try fs.flush(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, lockOwner: fi?.pointee.lock_owner ?? 0)
        }
    }

    static func release(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ fi: UnsafeMutablePointer<fuse_file_info>?) {
        respond(req, "release") { fs, ctx in
            try fs.release(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, flags: fi?.pointee.flags ?? 0)
        }
    }

    static func fsync(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ dataOnly: Int32, _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "fsync") { fs, ctx in
            try fs.fsync(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, dataOnly: dataOnly != 0)
        }
    }

    static func create(
        _ req: fuse_req_t?, _ parent: fuse_ino_t, _ name: UnsafePointer<CChar>?, _ mode: mode_t,
        _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "create") { fs, ctx in
            try fs.create(ctx, parent: parent, name: bytes(name), mode: mode, flags: fi?.pointee.flags ?? 0)
        } reply: { req, answer in
            var fileInfo = fi?.pointee ?? fuse_file_info()
            answer.1.apply(to: &fileInfo)
            var param = answer.0.cValue
            return fuse_reply_create(req, &param, &fileInfo)
        }
    }

    static func fallocate(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ mode: Int32, _ offset: off_t, _ length: off_t,
        _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "fallocate") { fs, ctx in
            try fs.fallocate(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, mode: mode, offset: Int64(offset), length: Int64(length))
        }
    }

    static func lseek(
        _ req: fuse_req_t?, _ ino: fuse_ino_t, _ offset: off_t, _ whence: Int32,
        _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) {
        respond(req, "lseek") { fs, ctx in
            try fs.lseek(ctx, ino: ino, handle: fi?.pointee.fh ?? 0, offset: Int64(offset), whence: whence)
        } reply: { req, position in
            fuse_reply_lseek(req, off_t(position))
        }
    }

    /// Sends `options` with fuse_reply_open in the `fuse_file_info` libfuse passed in.
    static func replyOpen(
        _ req: fuse_req_t, _ options: FUSEOpenOptions, _ fi: UnsafeMutablePointer<fuse_file_info>?
    ) -> Int32 {
        var fileInfo = fi?.pointee ?? fuse_file_info()
        options.apply(to: &fileInfo)
        return fuse_reply_open(req, &fileInfo)
    }
}
