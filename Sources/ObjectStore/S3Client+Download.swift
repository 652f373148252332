import Glibc

// Downloading an object into a local file, durably.
extension S3Client {
    /// Streams the object into a temporary file next to `path`, fsyncs it, and renames it over
    /// `path`; false (and no file) when there is no such key.
    public func download(_ key: String, to path: String) throws -> Bool {
        let temporary = "\(path).download-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw Self.systemError("create", temporary) }
        var renamed = false
        defer {
            close(descriptor)
            if !renamed { unlink(temporary) }
        }
        let response = try send(S3Request(.GET, key: key, accepting: [404], sink: (descriptor, temporary)))
        if response.status == 404 { return false }
        guard fsync(descriptor) == 0 else { throw Self.systemError("fsync", temporary) }
        guard rename(temporary, path) == 0 else { throw Self.systemError("rename to \(path)", temporary) }
        renamed = true
        // The rename is durable once the directory is synced.
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw Self.systemError("open", directory) }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw Self.systemError("fsync", directory) }
        return true
    }

    /// An `.io` error for a failed system call on `path`, with errno's text.
    static func systemError(_ operation: String, _ path: String) -> ObjectStoreError {
        ObjectStoreError(.io, "\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
