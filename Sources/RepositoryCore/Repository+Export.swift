import BlobStorage
import CatalogStore
import Glibc
import LocalTree
import NexusTypes

/// What an export wrote.
public struct ExportSummary: Sendable {
    public var folders = 0
    public var documents = 0
    public var links = 0
    public var others = 0
    public var bytes: Int64 = 0
    /// Owner changes skipped because the exporter is not root.
    public var ownersNotSet = 0
}

extension Repository {
    private static let userNamespace = Array("user.".utf8)

    /// Writes the folder (or document) at `path` and everything below it into the local
    /// directory `destination`, with modes, owners (as root), times, hard links and xattrs.
    public func exportTree(_ path: RepositoryPath, to destination: String,
                           progress: ProgressHandler? = nil) throws -> ExportSummary {
        let found = try RepositoryError.wrapping("export to \(destination) failed") {
            try catalog.read { reader in try reader.resolve(path).flatMap { top in try reader.node(top).map { (top, $0) } } }
        }
        guard let (top, topNode) = found else {
            throw RepositoryError(.notFound, "\(path) does not exist in repository \(self.path)")
        }
        var summary = ExportSummary()
        var state = OperationProgress(current: path.description)
        let writer: LocalTreeWriter
        do {
            writer = try LocalTreeWriter(root: Array(destination.utf8))
        } catch {
            throw RepositoryError(error.isNoSpace ? .noSpace : .failed, "cannot export to \(destination): \(error)")
        }
        let compressor = Compressor()
        var written: [InodeNumber: RepositoryPath] = [:]
        // What is still to write, the next on top: a worklist, not recursion, so that a tree
        // thousands of folders deep (ext4 and the mount allow it) does not overflow the stack.
        var pending: [(inode: InodeNumber, node: NodeRecord, local: RepositoryPath)] = []

        func emit(_ inode: InodeNumber, _ node: NodeRecord, at local: RepositoryPath) throws {
            // user.* only, as documented: the catalog also holds the ACLs (stored with the classes the
            // mode had when they were set), the DMS markers and the lock holder, which no local file
            // takes as they are (the local writer refused the whole export with EINVAL).
            let xattrs = try catalog.read { try $0.xattrs(of: inode) }.filter { $0.name.starts(with: Self.userNamespace) }
            if node.kind != .directory, node.linkCount > 1, let first = written[inode] {
                try writer.makeHardLink(local, to: first)
                summary.links += 1
                return
            }
            switch node.kind {
            case .directory:
                try writer.makeDirectory(local, metadata: node.localMetadata, xattrs: xattrs)
                summary.folders += 1
                let children = try catalog.read { try $0.entries(in: inode) }
                for child in children.reversed() {
                    guard let childNode = try catalog.read({ try $0.node(child.inode) }) else {
                        throw RepositoryError(.integrity, "\(local.appending(child.name)) has no node in the catalog")
                    }
                    pending.append((child.inode, childNode, local.appending(child.name)))
                }
            case .regular:
                let manifest = try node.manifest.map { id in
                    guard let manifest = try catalog.read({ try $0.manifest(id) }) else {
                        throw RepositoryError(.integrity, "the content of \(local) is missing from the catalog")
                    }
                    return manifest
                } ?? ContentManifest(chunks: [])
                try writer.makeFile(local, metadata: node.localMetadata, xattrs: xattrs) { fd in
                    // Holes stay holes: the local file is as sparse as the stored one.
                    try readContent(manifest, compressor: compressor, hole: { length in
                        guard lseek(fd, off_t(length), SEEK_CUR) >= 0 else {
                            throw RepositoryError(.failed, "cannot seek in \(local)")
                        }
                    }) { bytes in
                        try bytes.withUnsafeBytes { try LocalIO.writeFully(fd: fd, $0, path: local.bytes) }
                        state.bytes += Int64(bytes.count)
                        progress?(state)
                    }
                    guard ftruncate(fd, off_t(manifest.size)) == 0 else {
                        throw RepositoryError(.failed, "cannot set the size of \(local)")
                    }
                }
                summary.documents += 1
                summary.bytes += manifest.size
            case .symlink:
                try writer.makeSymlink(local, target: node.symlinkTarget ?? [], metadata: node.localMetadata)
                summary.others += 1
            default:
                try writer.makeSpecial(local, metadata: node.localMetadata)
                try writer.setXattrs(local, xattrs)
                summary.others += 1
            }
            if node.linkCount > 1 { written[inode] = local }
            state.items += 1
            state.current = local.description
            progress?(state)
        }

        do {
            if topNode.kind == .directory {
                pending.append((top, topNode, .root))
            } else {
                try writer.makeDirectory(.root, metadata: LocalMetadata.folder)
                pending.append((top, topNode, RepositoryPath(components: [path.lastName!])))
            }
            while let next = pending.popLast() { try emit(next.inode, next.node, at: next.local) }
            try writer.finish()
        } catch let error as LocalTreeError {
            throw RepositoryError(error.isNoSpace ? .noSpace : .failed, "export to \(destination) failed: \(error)")
        } catch {
            throw RepositoryError.wrap(error, "export to \(destination) failed")
        }
        summary.ownersNotSet = writer.skippedOwnerChanges
        return summary
    }
}

extension NodeRecord {
    var localMetadata: LocalMetadata {
        LocalMetadata(kind: kind, permissions: permissions, uid: uid, gid: gid, size: size, accessTime: accessTime,
                      modificationTime: modificationTime, changeTime: changeTime, device: 0, inode: inode.rawValue,
                      linkCount: UInt64(linkCount), rdev: rdev)
    }
}

extension LocalMetadata {
    /// A plain folder for a destination that has no metadata of its own in the repository.
    static var folder: LocalMetadata {
        let now = FileTime.now
        return LocalMetadata(kind: .directory, permissions: 0o755, uid: getuid(), gid: getgid(), size: 0, accessTime: now,
                             modificationTime: now, changeTime: now, device: 0, inode: 0, linkCount: 2, rdev: 0)
    }
}

extension Error {
    var isNoSpace: Bool {
        if let error = self as? LocalTreeError { return error.errno == ENOSPC || error.errno == EDQUOT }
        return false
    }
}
