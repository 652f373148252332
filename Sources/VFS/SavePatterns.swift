import Foundation
import NexusTypes

/// What real programs do when they save, and the names of the files they use on the
/// way (Alfresco's "save shuffle" rules are the prior art).
enum SavePatterns {
    /// Names of swap, lock, backup and temporary files: while a file has such a name
    /// its saves are not versions, and it has no history of its own.
    static func isTransient(_ name: [UInt8]) -> Bool {
        let text = String(decoding: name, as: UTF8.self)
        if text == "4913" || text.hasSuffix("~") { return true }                                    // vim's probe, backups
        if text.hasPrefix(".") && (text.hasSuffix(".swp") || text.hasSuffix(".swx") || text.hasSuffix(".swo")) { return true }
        if text.hasPrefix(".~lock.") && text.hasSuffix("#") { return true }                         // LibreOffice
        if text.hasPrefix(".goutputstream-") { return true }                                          // GIO (gedit)
        if text.hasPrefix(".#") { return true }                                                       // emacs lock
        if text.hasPrefix("#") && text.hasSuffix("#") { return true }                                 // emacs autosave
        if text.hasSuffix(".lock") || text.hasSuffix("-journal") || text.hasSuffix("-wal")
            || text.hasSuffix("-shm") { return true }                                                 // git, sqlite
        if text.hasSuffix(".tmp") || text.hasSuffix(".part") || text.hasSuffix(".crdownload") { return true }
        if isSedTemporary(name) || isRsyncTemporary(name) { return true }
        return false
    }

    /// sed -i writes `sedXXXXXX` (six random alphanumerics).
    static func isSedTemporary(_ name: [UInt8]) -> Bool {
        name.count == 9 && name.starts(with: Array("sed".utf8)) && name.dropFirst(3).allSatisfy(isAlphanumeric)
    }

    /// rsync writes `.NAME.XXXXXX` next to NAME.
    static func isRsyncTemporary(_ name: [UInt8]) -> Bool {
        guard name.count > 8, name.first == UInt8(ascii: "."), name[name.count - 7] == UInt8(ascii: ".") else { return false }
        return name.suffix(6).allSatisfy(isAlphanumeric)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }

    /// How long a name that disappeared (deleted, or renamed to a backup name) keeps its
    /// document for a new file created under that name.
    static let adoptionWindow: TimeInterval = 30
}

/// What a document's next holder takes over when a save replaces the file that held it: the
/// document (its history), its owner, group and permission bits, and its attributes (the ACLs,
/// level markers, status, lock and hold among them).
struct DocumentIdentity {
    var document: Int64
    /// The node that held it (its comments move with the document).
    var inode: InodeNumber
    var uid: UInt32
    var gid: UInt32
    var permissions: UInt32
    var xattrs: [(name: [UInt8], value: [UInt8])]
}

/// Documents whose names recently disappeared, by folder and name, so that a file created under
/// the same name by the same user continues their history (vim's rename-and-write,
/// delete-and-recreate).
struct RecentNames {
    struct Key: Hashable {
        var folder: InodeNumber
        var name: [UInt8]
    }

    private var entries: [Key: (identity: DocumentIdentity, departedBy: UInt32, time: Date)] = [:]

    /// `uid` made the name go away, and may continue the document.
    mutating func remember(_ identity: DocumentIdentity, departedBy uid: UInt32, as name: [UInt8], in folder: InodeNumber) {
        let now = Date()
        if entries.count > 10_000 {
            entries = entries.filter { now.timeIntervalSince($0.value.time) < SavePatterns.adoptionWindow }
        }
        entries[Key(folder: folder, name: name)] = (identity, uid, now)
    }

    /// The document that last had `name` in `folder`, if it lost it recently and `uid` is who made
    /// it go; forgets it.
    mutating func adopt(_ name: [UInt8], in folder: InodeNumber, by uid: UInt32) -> DocumentIdentity? {
        let key = Key(folder: folder, name: name)
        guard let entry = entries[key], entry.departedBy == uid else { return nil }
        entries[key] = nil
        guard Date().timeIntervalSince(entry.time) < SavePatterns.adoptionWindow else { return nil }
        return entry.identity
    }
}
