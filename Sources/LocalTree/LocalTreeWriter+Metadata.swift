internal import Glibc
import NexusTypes

/// Finding parent directories and applying owner, mode and times.
extension LocalTreeWriter {
    /// Calls `body` with a descriptor of the parent of `path` and its last name as a C string;
    /// for `.root`, the root's descriptor and `.`. The descriptor stays owned by the writer.
    func withParent<T>(of path: RepositoryPath, _ body: (Int32, [CChar]) throws -> T) throws -> T {
        guard let name = path.lastName else { return try body(rootDescriptor, SystemCalls.dot) }
        let parentPath = path.parent
        let parent: Int32
        if parentPath.isRoot {
            parent = rootDescriptor
        } else if let cached = cachedParent, cached.path == parentPath {
            parent = cached.descriptor
        } else {
            // From the cached folder when the new parent is below or above it (a walk goes down a
            // folder at a time, finish() climbs back up): a tree thousands of folders deep would
            // otherwise be opened from the root for every node.
            parent = try cachedParent.flatMap { try reopen(from: $0, to: parentPath) } ?? openDirectory(parentPath)
            if let cached = cachedParent { close(cached.descriptor) }
            cachedParent = (parentPath, parent)
        }
        return try body(parent, SystemCalls.cString(name.bytes))
    }

    /// A new descriptor of `path` reached from `cached` by its remaining components or by `..`;
    /// nil when neither is an ancestor of the other. The caller closes it.
    private func reopen(from cached: (path: RepositoryPath, descriptor: Int32), to path: RepositoryPath) throws -> Int32? {
        let flags = SystemCalls.pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        let here = cached.path.components, there = path.components
        let steps: [[CChar]]
        if there.starts(with: here) {
            steps = there.dropFirst(here.count).map { SystemCalls.cString($0.bytes) }
        } else if here.starts(with: there) {
            steps = Array(repeating: SystemCalls.cString(Array("..".utf8)), count: here.count - there.count)
        } else {
            return nil
        }
        var fd = openat(cached.descriptor, SystemCalls.dot, flags)
        guard fd >= 0 else { throw LocalTreeError.last("open", fullPath(cached.path)) }
        for step in steps {
            let next = openat(fd, step, flags)
            let code = errno
            close(fd)
            guard next >= 0 else { throw LocalTreeError(path: fullPath(path), operation: "open", errno: code) }
            fd = next
        }
        return fd
    }

    /// A new O_PATH descriptor of the directory at `path`, opened one component at a time
    /// with O_NOFOLLOW so that no symlink inside the tree redirects a write. The caller closes it.
    func openDirectory(_ path: RepositoryPath) throws -> Int32 {
        let flags = SystemCalls.pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var fd = openat(rootDescriptor, SystemCalls.dot, flags)
        guard fd >= 0 else { throw LocalTreeError.last("open", root) }
        var reached = RepositoryPath.root
        for component in path.components {
            reached = reached.appending(component)
            let next = openat(fd, SystemCalls.cString(component.bytes), flags)
            let code = errno
            close(fd)
            guard next >= 0 else { throw LocalTreeError(path: fullPath(reached), operation: "open", errno: code) }
            fd = next
        }
        return fd
    }

    /// Owner, then mode (chown clears setuid and setgid), then times, on an open file or directory.
    func applyMetadata(_ metadata: LocalMetadata, toOpen fd: Int32, at path: RepositoryPath) throws {
        try applyOwner(metadata, at: path) { fchown(fd, $0, $1) }
        guard fchmod(fd, metadata.permissions) == 0 else { throw LocalTreeError.last("chmod", fullPath(path)) }
        let times = metadata.timespecs
        guard futimens(fd, times) == 0 else { throw LocalTreeError.last("utimens", fullPath(path)) }
    }

    /// Access and modification time of `name`, not following a symlink.
    func applyTimes(_ metadata: LocalMetadata, named name: [CChar], in parent: Int32, at path: RepositoryPath) throws {
        let times = metadata.timespecs
        guard utimensat(parent, name, times, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw LocalTreeError.last("utimens", fullPath(path))
        }
    }

    /// Sets uid and gid through `change` when that can work: always as root, otherwise only
    /// for the writer's own uid (where it is a no-op or picks one of its groups). What cannot
    /// be applied is counted in `skippedOwnerChanges`.
    func applyOwner(_ metadata: LocalMetadata, at path: RepositoryPath, _ change: (uid_t, gid_t) -> Int32) throws {
        guard isPrivileged || metadata.uid == geteuid() else {
            skippedOwnerChanges += 1
            return
        }
        guard change(metadata.uid, metadata.gid) != 0 else { return }
        if !isPrivileged && errno == EPERM {
            skippedOwnerChanges += 1
            return
        }
        throw LocalTreeError.last("chown", fullPath(path))
    }

    func fullPath(_ path: RepositoryPath) -> [UInt8] { SystemCalls.join(root, path) }
}
