import CatalogStore
import NexusTypes

extension Volume {
    /// rename(2) and renameat2(2): atomic replacement of the target, RENAME_NOREPLACE
    /// and RENAME_EXCHANGE; other flags are refused with EINVAL.
    public func rename(_ name: [UInt8], in parent: InodeNumber, to newName: [UInt8], in newParent: InodeNumber,
                       flags: RenameFlags, caller: Caller) throws {
        guard flags.subtracting([.noReplace, .exchange]).isEmpty,
              !(flags.contains(.noReplace) && flags.contains(.exchange)) else {
            throw VFSError(.invalid, "unsupported rename flags \(flags.rawValue)")
        }
        // `mv` out of the trash restores; nothing else changes the trash or the history.
        if let trash = TrashView.node(parent), !VersionsView.isVirtual(newParent), !flags.contains(.exchange) {
            let folder: UInt64?
            switch trash {
            case .root: folder = nil
            case .folder(let id): folder = id
            case .file: throw VFSError(.notDirectory)
            case .versions: throw VFSError(.readOnly, "the version history is read-only")
            }
            return try restoreFromTrash(name, in: folder, to: try Self.creatableName(newName, in: newParent), in: newParent,
                                        caller: caller)
        }
        try VersionsView.refuseVirtual(parent, newParent)
        let name = try Self.name(name)
        let newName = try Self.creatableName(newName, in: newParent)
        let now = FileTime.now
        let moved = try namespace.stage { w -> InodeNumber? in
            guard let source = try w.reader.entry(named: name, in: parent) else { throw VFSError(.notFound) }
            var sourceNode = try w.reader.existingNode(source)
            guard try w.reader.existingNode(newParent).kind == .directory else { throw VFSError(.notDirectory) }
            let target = try w.reader.entry(named: newName, in: newParent)
            if sourceNode.kind == .directory { try refuseMoveIntoItself(source, to: newParent, in: w) }

            if flags.contains(.exchange) {
                guard let target else { throw VFSError(.notFound) }
                var targetNode = try w.reader.existingNode(target)
                if targetNode.kind == .directory { try refuseMoveIntoItself(target, to: parent, in: w) }
                try policy.guardChange(.rename, of: sourceNode, caller: caller, in: w.reader)
                try policy.guardChange(.rename, of: targetNode, caller: caller, in: w.reader)
                try policy.audit("exchange", caller: caller, node: sourceNode,
                                 after: try w.reader.path(of: newParent).map { "\($0.appending(newName))" }, in: w)
                try w.removeEntry(named: name, in: parent)
                try w.removeEntry(named: newName, in: newParent)
                try w.insertEntry(EntryRecord(parent: parent, name: name, inode: target))
                try w.insertEntry(EntryRecord(parent: newParent, name: newName, inode: source))
                let delta = (sourceNode.kind == .directory ? 1 : 0) - (targetNode.kind == .directory ? 1 : 0)
                if parent != newParent {
                    try touch(parent, in: w, time: now, linkDelta: -delta)
                    try touch(newParent, in: w, time: now, linkDelta: delta)
                } else {
                    try touch(parent, in: w, time: now, linkDelta: 0)
                }
                sourceNode.changeTime = now
                targetNode.changeTime = now
                try w.updateNode(sourceNode)
                try w.updateNode(targetNode)
                return nil
            }

            var removedFolder = false
            var replaced: NodeRecord?
            var continues = false
            if let target {
                if target == source { return nil }
                if flags.contains(.noReplace) { throw VFSError(.exists) }
                var targetNode = try w.reader.existingNode(target)
                continues = try self.policy.continuesDocument(sourceNode, to: newName, replacing: targetNode, caller: caller,
                                                              in: w.reader)
                try policy.guardChange(continues ? .save : .replace, of: targetNode, caller: caller, in: w.reader)
                if !continues {
                    try policy.audit(targetNode.kind == .directory ? "rmdir" : "delete", caller: caller, node: targetNode,
                                     after: "replaced by a rename", in: w)
                }
                if sourceNode.kind == .directory {
                    guard targetNode.kind == .directory else { throw VFSError(.notDirectory) }
                    guard try !w.reader.hasEntries(target) else { throw VFSError(.notEmpty) }
                    targetNode.linkCount = 0
                    removedFolder = true
                } else {
                    guard targetNode.kind != .directory else { throw VFSError(.isDirectory) }
                    targetNode.linkCount -= 1
                }
                targetNode.changeTime = now
                try w.removeEntry(named: newName, in: newParent)
                try w.updateNode(targetNode)
                if !continues { try moveToTrash(targetNode, name: newName, from: newParent, caller: caller, in: w) }
                replaced = targetNode
            }
            try policy.guardChange(.rename, of: sourceNode, caller: caller, in: w.reader)
            let before = try w.reader.path(of: source)
            try w.removeEntry(named: name, in: parent)
            try w.insertEntry(EntryRecord(parent: newParent, name: newName, inode: source))
            try policy.audit("rename", caller: caller, node: sourceNode, before: before.map { "\($0)" },
                             after: try w.reader.path(of: source).map { "\($0)" }, in: w)
            let movesFolder = sourceNode.kind == .directory && parent != newParent
            if parent != newParent {
                try touch(parent, in: w, time: now, linkDelta: movesFolder ? -1 : 0)
            }
            try touch(newParent, in: w, time: now, linkDelta: (movesFolder ? 1 : 0) - (removedFolder ? 1 : 0))
            sourceNode.changeTime = now
            try w.updateNode(sourceNode)
            try policy.renamedFile(&sourceNode, from: name, in: parent, to: newName, in: newParent, replacing: replaced,
                                   continuesReplaced: continues, caller: caller,
                                   hasUnsavedContent: self.files.hasUnsavedContent(source), w: w)
            return sourceNode.kind == .regular ? source : nil
        }
        // A save renamed over a document took its owner and permissions: the kernel cached the temporary file's.
        if let moved { invalidate([moved]) }
    }

    /// EINVAL when `folder` would move into itself or below itself.
    private func refuseMoveIntoItself(_ folder: InodeNumber, to destination: InodeNumber, in w: CatalogWriter) throws {
        var current = destination
        var steps = 0
        while true {
            if current == folder { throw VFSError(.invalid, "cannot move a folder into itself") }
            if current == .root { return }
            guard let up = try w.reader.firstName(of: current)?.parent, steps < 4096 else { return }
            current = up
            steps += 1
        }
    }
}
