internal import Glibc
import NexusTypes

/// Writes a local directory tree below a root through directory descriptors and *at() calls,
/// applying metadata in the order Linux needs: content, xattrs, owner, mode, times.
///
/// Directories are created `rwx------` and get their owner, mode and times in `finish()`, so
/// that writing their children neither fails on a read-only directory nor moves its times.
/// Not thread-safe: use from one thread.
public final class LocalTreeWriter {
    /// The root path bytes as given.
    public let root: [UInt8]
    /// Owner changes not made because the process is not root and the owner differs; the
    /// nodes keep the writer's uid and gid.
    public internal(set) var skippedOwnerChanges = 0

    let rootDescriptor: Int32
    let isPrivileged = geteuid() == 0
    /// The parent of the last node written; exports go directory by directory.
    var cachedParent: (path: RepositoryPath, descriptor: Int32)?
    private var pendingDirectories: [(path: RepositoryPath, metadata: LocalMetadata)] = []

    /// Opens `root`, creating it and any missing ancestors first (`mkdir -p`).
    public init(root: [UInt8]) throws {
        guard !root.isEmpty, !root.contains(0) else {
            throw LocalTreeError(path: root, operation: "mkdir", errno: EINVAL)
        }
        var prefix: [UInt8] = root.first == UInt8(ascii: "/") ? [UInt8(ascii: "/")] : []
        for component in root.split(separator: UInt8(ascii: "/")) {
            if !prefix.isEmpty && prefix.last != UInt8(ascii: "/") { prefix.append(UInt8(ascii: "/")) }
            prefix += component
            if mkdir(SystemCalls.cString(prefix), 0o777) != 0 && errno != EEXIST {
                throw LocalTreeError.last("mkdir", prefix)
            }
        }
        let fd = SystemCalls.retryingInterrupts {
            openat(AT_FDCWD, SystemCalls.cString(root), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        guard fd >= 0 else { throw LocalTreeError.last("open", root) }
        self.root = root
        rootDescriptor = fd
    }

    deinit {
        if let cached = cachedParent { close(cached.descriptor) }
        close(rootDescriptor)
    }

    /// Creates a directory, or reuses the one already there, and gives it exactly `xattrs`;
    /// its owner, mode and times wait for `finish()`. `.root` is the root itself.
    public func makeDirectory(
        _ path: RepositoryPath, metadata: LocalMetadata, xattrs: [(name: [UInt8], value: [UInt8])] = []
    ) throws {
        try withParent(of: path) { parent, name in
            if mkdirat(parent, name, 0o700) != 0 && errno != EEXIST {
                throw LocalTreeError.last("mkdir", fullPath(path))
            }
            // O_DIRECTORY | O_NOFOLLOW: whatever existed must be a real directory.
            let fd = SystemCalls.openForReading(parent, name, flags: O_DIRECTORY)
            guard fd >= 0 else { throw LocalTreeError.last("open", fullPath(path)) }
            defer { close(fd) }
            try ExtendedAttributes.replace(fd: fd, with: xattrs, path: fullPath(path))
        }
        pendingDirectories.append((path, metadata))
    }

    /// Creates (O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW) a regular file; `write` receives
    /// the descriptor to write content into. Then sets exactly `xattrs`, the owner, the mode
    /// and the times. An existing file is truncated; an existing symlink is an error (ELOOP).
    public func makeFile(
        _ path: RepositoryPath, metadata: LocalMetadata, xattrs: [(name: [UInt8], value: [UInt8])] = [],
        write: (Int32) throws -> Void
    ) throws {
        try withParent(of: path) { parent, name in
            let fd = SystemCalls.retryingInterrupts {
                openat(parent, name, O_CREAT | O_TRUNC | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
            }
            guard fd >= 0 else { throw LocalTreeError.last("create", fullPath(path)) }
            do {
                try write(fd)
                try ExtendedAttributes.replace(fd: fd, with: xattrs, path: fullPath(path))
                try applyMetadata(metadata, toOpen: fd, at: path)
            } catch {
                close(fd)
                throw error
            }
            // Some file systems (NFS) report failed writes only here.
            guard close(fd) == 0 else { throw LocalTreeError.last("close", fullPath(path)) }
        }
    }

    /// Creates a symlink holding `target` byte for byte, then its owner and times
    /// (Linux symlinks have no mode of their own).
    public func makeSymlink(_ path: RepositoryPath, target: [UInt8], metadata: LocalMetadata) throws {
        guard !target.isEmpty, !target.contains(0) else {
            throw LocalTreeError(path: fullPath(path), operation: "symlink", errno: EINVAL)
        }
        try withParent(of: path) { parent, name in
            guard symlinkat(SystemCalls.cString(target), parent, name) == 0 else {
                throw LocalTreeError.last("symlink", fullPath(path))
            }
            try applyOwner(metadata, at: path) { fchownat(parent, name, $0, $1, AT_SYMLINK_NOFOLLOW) }
            try applyTimes(metadata, named: name, in: parent, at: path)
        }
    }

    /// Makes `path` a second name of the already written regular file `existing`.
    public func makeHardLink(_ path: RepositoryPath, to existing: RepositoryPath) throws {
        guard let existingName = existing.lastName else {
            throw LocalTreeError(path: fullPath(existing), operation: "link", errno: EPERM)
        }
        let existingParent = try openDirectory(existing.parent)
        defer { close(existingParent) }
        try withParent(of: path) { parent, name in
            guard linkat(existingParent, SystemCalls.cString(existingName.bytes), parent, name, 0) == 0 else {
                throw LocalTreeError.last("link", fullPath(path))
            }
        }
    }

    /// Creates a FIFO or socket node, or a character or block device from `metadata.rdev`
    /// (which needs root), then its owner, mode and times.
    public func makeSpecial(_ path: RepositoryPath, metadata: LocalMetadata) throws {
        switch metadata.kind {
        case .fifo, .socket, .characterDevice, .blockDevice: break
        case .regular, .directory, .symlink:
            throw LocalTreeError(path: fullPath(path), operation: "mknod", errno: EINVAL)
        }
        try withParent(of: path) { parent, name in
            guard mknodat(parent, name, metadata.kind.rawValue | 0o600, dev_t(metadata.rdev)) == 0 else {
                throw LocalTreeError.last("mknod", fullPath(path))
            }
            try applyOwner(metadata, at: path) { fchownat(parent, name, $0, $1, AT_SYMLINK_NOFOLLOW) }
            guard fchmodat(parent, name, metadata.permissions, 0) == 0 else {
                throw LocalTreeError.last("chmod", fullPath(path))
            }
            try applyTimes(metadata, named: name, in: parent, at: path)
        }
    }

    /// Gives a regular file or directory exactly these `user.*` xattrs, removing others.
    /// Prefer the `xattrs:` parameters of `makeFile` and `makeDirectory`: once a file's mode
    /// is applied, a writer that is not root may no longer be allowed to change them.
    public func setXattrs(_ path: RepositoryPath, _ xattrs: [(name: [UInt8], value: [UInt8])]) throws {
        try withParent(of: path) { parent, name in
            let fd = SystemCalls.openForReading(parent, name, flags: O_NONBLOCK)
            guard fd >= 0 else { throw LocalTreeError.last("open", fullPath(path)) }
            defer { close(fd) }
            try ExtendedAttributes.replace(fd: fd, with: xattrs, path: fullPath(path))
        }
    }

    /// Applies directory owners, permissions and times, deepest directories first, so that
    /// no later step changes them. Call once, after everything else is written. A directory
    /// that fails does not stop the others; the first failure is thrown at the end.
    public func finish() throws {
        let directories = pendingDirectories.sorted { $0.path.components.count > $1.path.components.count }
        pendingDirectories = []
        var firstError: (any Error)?
        for (path, metadata) in directories {
            do {
                try withParent(of: path) { parent, name in
                    let fd = SystemCalls.openForReading(parent, name, flags: O_DIRECTORY)
                    guard fd >= 0 else { throw LocalTreeError.last("open", fullPath(path)) }
                    defer { close(fd) }
                    try applyMetadata(metadata, toOpen: fd, at: path)
                }
            } catch {
                firstError = firstError ?? error
            }
        }
        if let cached = cachedParent {
            close(cached.descriptor)
            cachedParent = nil
        }
        if let error = firstError { throw error }
    }
}
