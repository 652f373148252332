internal import Glibc
import NexusTypes

/// Walks a local directory tree through directory descriptors and *at() calls, so names are
/// byte-exact and no symlink below the root is ever followed.
///
/// Files and directories are opened with O_NOATIME where allowed, so walking leaves their
/// access times alone; reading a symlink's target may update its access time (relatime),
/// which Linux offers no flag to avoid.
/// Not thread-safe: one walk at a time. Holds one descriptor per directory level of the walk.
public final class LocalTreeReader {
    /// The root path bytes as given.
    public let root: [UInt8]
    private let rootDescriptor: Int32

    /// Opens `root`, which must be an existing directory (a symlink to one is followed).
    public init(root: [UInt8]) throws {
        guard !root.isEmpty, !root.contains(0) else {
            throw LocalTreeError(path: root, operation: "open", errno: EINVAL)
        }
        let fd = SystemCalls.retryingInterrupts {
            open(SystemCalls.cString(root), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw LocalTreeError.last("open", root) }
        self.root = root
        rootDescriptor = fd
    }

    deinit { close(rootDescriptor) }

    /// Pre-order walk: a directory before its children, children sorted by name bytes.
    ///
    /// For regular files `open` gives a readable descriptor the callee must close (or use
    /// `LocalIO.withOpenFile`); for other kinds it throws EINVAL. An entry that cannot be read
    /// completely (it vanished, cannot be opened, its attributes or children cannot be listed)
    /// is passed to `onError` and skipped with its subtree, and the walk goes on. Failing to
    /// read the root, and any error `visit` throws, end the walk with that error.
    public func walk(
        _ visit: (LocalEntry, _ open: () throws -> Int32) throws -> Void,
        onError: (LocalTreeError) -> Void
    ) throws {
        let rootCopy = SystemCalls.openForReading(rootDescriptor, SystemCalls.dot, flags: O_DIRECTORY)
        guard rootCopy >= 0 else { throw LocalTreeError.last("open", root) }
        var stack: [Frame] = []
        defer { for frame in stack { close(frame.descriptor) } }
        do {
            let entry = try entry(describing: rootCopy, at: .root)
            let names = try childNames(of: rootCopy, at: .root)
            stack.append(Frame(descriptor: rootCopy, path: .root, names: names))
            try visit(entry) { try notAFile(entry.path) }
        } catch {
            if stack.isEmpty { close(rootCopy) }
            throw error
        }

        while let top = stack.indices.last {
            guard stack[top].next < stack[top].names.count else {
                close(stack.removeLast().descriptor)
                continue
            }
            let name = stack[top].names[stack[top].next]
            stack[top].next += 1
            let parent = stack[top].descriptor
            let path = stack[top].path.appending(name)
            let cName = SystemCalls.cString(name.bytes)

            let child: Child
            do {
                child = try self.child(named: cName, in: parent, at: path)
            } catch let error as LocalTreeError {
                onError(error)
                continue
            }
            switch child {
            case .directory(let entry, let fd):
                let names: [FileName]
                do {
                    names = try childNames(of: fd, at: path)
                } catch let error as LocalTreeError {
                    close(fd)
                    onError(error)
                    continue
                }
                stack.append(Frame(descriptor: fd, path: path, names: names))
                try visit(entry) { try notAFile(entry.path) }
            case .file(let entry, let fd):
                var handedOver = false
                defer { if !handedOver { close(fd) } }
                try visit(entry) {
                    if handedOver { return try reopen(cName, in: parent, as: entry) }
                    handedOver = true
                    return fd
                }
            case .other(let entry):
                try visit(entry) { try notAFile(entry.path) }
            }
        }
    }

    /// A directory being walked: its descriptor and the children not yet visited.
    private struct Frame {
        let descriptor: Int32
        let path: RepositoryPath
        let names: [FileName]
        var next = 0
    }

    /// A child read completely; directories and regular files come with an open descriptor.
    private enum Child {
        case directory(LocalEntry, Int32)
        case file(LocalEntry, Int32)
        case other(LocalEntry)
    }

    private func child(named name: [CChar], in parent: Int32, at path: RepositoryPath) throws -> Child {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw LocalTreeError.last("stat", fullPath(path))
        }
        guard let metadata = LocalMetadata(st) else {
            throw LocalTreeError(path: fullPath(path), operation: "stat", errno: EINVAL)
        }
        switch metadata.kind {
        case .directory, .regular:
            let isDirectory = metadata.kind == .directory
            // O_NONBLOCK: should the file have been swapped for a FIFO since fstatat, opening
            // it must not wait for a writer.
            let fd = SystemCalls.openForReading(parent, name, flags: isDirectory ? O_DIRECTORY : O_NONBLOCK)
            guard fd >= 0 else { throw LocalTreeError.last("open", fullPath(path)) }
            do {
                let entry = try entry(describing: fd, at: path)
                guard entry.metadata.kind == metadata.kind else {
                    throw LocalTreeError(path: fullPath(path), operation: "open (replaced during walk)", errno: EAGAIN)
                }
                return isDirectory ? .directory(entry, fd) : .file(entry, fd)
            } catch {
                close(fd)
                throw error
            }
        case .symlink:
            let target = try readLink(name, in: parent, sizeHint: Int(metadata.size), at: path)
            return .other(LocalEntry(path: path, metadata: metadata, symlinkTarget: target))
        case .fifo, .characterDevice, .blockDevice, .socket:
            return .other(LocalEntry(path: path, metadata: metadata))
        }
    }

    /// The entry for an open file or directory: its metadata from `fstat` and its xattrs.
    private func entry(describing fd: Int32, at path: RepositoryPath) throws -> LocalEntry {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LocalTreeError.last("stat", fullPath(path)) }
        guard let metadata = LocalMetadata(st) else {
            throw LocalTreeError(path: fullPath(path), operation: "stat", errno: EINVAL)
        }
        let xattrs = try ExtendedAttributes.read(fd: fd, path: fullPath(path))
        return LocalEntry(path: path, metadata: metadata, xattrs: xattrs)
    }

    /// The names in directory `fd`, sorted by bytes, without `.` and `..`.
    private func childNames(of fd: Int32, at path: RepositoryPath) throws -> [FileName] {
        // A fresh open file description, so the listing has its own offset.
        let listing = SystemCalls.openForReading(fd, SystemCalls.dot, flags: O_DIRECTORY)
        guard listing >= 0 else { throw LocalTreeError.last("open", fullPath(path)) }
        guard let directory = fdopendir(listing) else {
            let error = LocalTreeError.last("opendir", fullPath(path))
            close(listing)
            throw error
        }
        defer { closedir(directory) }
        var names: [FileName] = []
        while true {
            errno = 0
            guard let record = readdir(directory) else {
                if errno != 0 { throw LocalTreeError.last("readdir", fullPath(path)) }
                break
            }
            let bytes = withUnsafeBytes(of: &record.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            // FileName rejects `.` and `..`, and nothing else readdir can return.
            if let name = FileName(bytes: bytes) { names.append(name) }
        }
        return names.sorted()
    }

    private func readLink(_ name: [CChar], in parent: Int32, sizeHint: Int, at path: RepositoryPath) throws -> [UInt8] {
        var capacity = max(sizeHint + 1, 64)
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let count = buffer.withUnsafeMutableBufferPointer { raw in
                raw.withMemoryRebound(to: CChar.self) { readlinkat(parent, name, $0.baseAddress!, capacity) }
            }
            guard count >= 0 else { throw LocalTreeError.last("readlink", fullPath(path)) }
            // A full buffer may mean a truncated target: the link changed since lstat.
            if count < capacity { return Array(buffer[..<count]) }
            capacity *= 2
        }
    }

    /// A second descriptor for a regular file whose first one was already handed out;
    /// fails if the name now refers to another file.
    private func reopen(_ name: [CChar], in parent: Int32, as entry: LocalEntry) throws -> Int32 {
        let fd = SystemCalls.openForReading(parent, name, flags: O_NONBLOCK)
        guard fd >= 0 else { throw LocalTreeError.last("open", fullPath(entry.path)) }
        var st = stat()
        guard fstat(fd, &st) == 0, UInt64(st.st_dev) == entry.metadata.device, UInt64(st.st_ino) == entry.metadata.inode else {
            close(fd)
            throw LocalTreeError(path: fullPath(entry.path), operation: "open (replaced during walk)", errno: EAGAIN)
        }
        return fd
    }

    private func notAFile(_ path: RepositoryPath) throws -> Int32 {
        throw LocalTreeError(path: fullPath(path), operation: "open (not a regular file)", errno: EINVAL)
    }

    private func fullPath(_ path: RepositoryPath) -> [UInt8] { SystemCalls.join(root, path) }
}
