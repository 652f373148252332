import Glibc

/// Thin, error-checked file operations for pack files.
enum PackFile {
    /// Opens a pack file (or, with O_DIRECTORY, a folder); anything else in its place (a FIFO, whose
    /// open would wait for a writer, a device, a folder) is refused as damage instead of being read.
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC | O_NONBLOCK, mode)
        guard fd >= 0 else { throw BlobStoreError.system("open", path) }
        var st = stat()
        let kind = flags & O_DIRECTORY != 0 ? S_IFDIR : S_IFREG
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == kind else {
            Glibc.close(fd)
            throw BlobStoreError(.corrupt, "\(path) is not a \(kind == S_IFDIR ? "folder" : "regular file")")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BlobStoreError.system("write", path)
            }
            done += n
        }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8], at offset: UInt64, path: String) throws {
        try bytes.withUnsafeBytes { try write(fd, $0, at: offset, path: path) }
    }

    /// Reads exactly `count` bytes at `offset`; a short file is corruption.
    static func read(_ fd: Int32, count: Int, at offset: UInt64, path: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BlobStoreError.system("read", path)
                }
                if n == 0 { throw BlobStoreError(.corrupt, "pack \(path) is truncated at byte \(offset + UInt64(done))") }
                done += n
            }
        }
        return out
    }

    static func size(_ fd: Int32, path: String) throws -> UInt64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BlobStoreError.system("stat", path) }
        return UInt64(st.st_size)
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw BlobStoreError.system("fsync", path) }
    }

    /// fsyncs a directory so that a rename or create in it is durable.
    static func syncDirectory(_ path: String) throws {
        let fd = try open(path, flags: O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: path)
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw BlobStoreError.system("mkdir", path) }
    }
}
