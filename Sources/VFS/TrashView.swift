import CatalogStore
import Foundation
import NexusTypes
import Synchronization

/// The `/.trash` tree: what was deleted through the mount, by day and original path
/// (`/.trash/2026-12-03/team/report.odt`), read-only except that `mv` out of it restores.
/// Its inodes are virtual, in the `.versions` view's first level with bit 61 set (real inode
/// numbers never get there): bits 59-60 say root, folder or file; a file's rest is the trashed
/// node, a folder's an interned (day, path).
enum TrashView {
    static let name: [UInt8] = Array(".trash".utf8)
    private static let base: UInt64 = VersionsView.folderLevel << VersionsView.levelShift | 1 << 61
    private static let kindShift: UInt64 = 59
    private static let idMask: UInt64 = (1 << kindShift) - 1
    /// The tags view's sub-kind shift (`TagsView.kindShift`).
    private static let versionsShift: UInt64 = 57

    enum Node: Equatable {
        case root
        /// A folder of the view: `path` is empty for a day's own folder.
        case folder(id: UInt64)
        /// A trashed node that is not a folder.
        case file(InodeNumber)
        /// `.versions` in a folder of the view: the history of the documents trashed there. Its
        /// inodes are in the tags view's range (kind 3), in the sub-kind 3 that `/.search`'s root
        /// leaves free but for id 0.
        case versions(folder: UInt64)
    }

    static func inode(_ node: Node) -> InodeNumber {
        switch node {
        case .root: InodeNumber(base)
        case .folder(let id): InodeNumber(base | 1 << kindShift | id & idMask)
        case .file(let inode): InodeNumber(base | 2 << kindShift | inode.rawValue & idMask)
        case .versions(let id): InodeNumber(base | 3 << kindShift | 3 << versionsShift | id & (1 << versionsShift - 1))
        }
    }

    static func node(_ inode: InodeNumber) -> Node? {
        guard inode.rawValue & ~((1 << 61) - 1) == base else { return nil }
        let rest = inode.rawValue & idMask
        switch (inode.rawValue >> kindShift) & 3 {
        case 0: return .root
        case 1: return .folder(id: rest)
        case 2: return .file(InodeNumber(rest))
        default:
            // 3: the tags view, but for the versions folders (see `versions`).
            let id = rest & (1 << versionsShift - 1)
            return rest >> versionsShift == 3 && id != 0 ? .versions(folder: id) : nil
        }
    }

    /// `2026-12-03`, the UTC day of `time`.
    static func dayName(_ time: FileTime) -> [UInt8] {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Array(String(format: "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday).utf8)
    }

    /// The UTC day a name of the root stands for: its first and last instant (exclusive).
    static func day(named name: [UInt8]) -> (start: FileTime, end: FileTime)? {
        guard name.count == 10, let text = String(validating: name, as: UTF8.self) else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = Int32(parts[0]), let month = Int32(parts[1]), let day = Int32(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var fields = tm()
        fields.tm_year = year - 1900
        fields.tm_mon = month - 1
        fields.tm_mday = day
        let start = timegm(&fields)
        guard dayName(FileTime(seconds: Int64(start), nanoseconds: 0)) == name else { return nil }
        return (FileTime(seconds: Int64(start), nanoseconds: 0), FileTime(seconds: Int64(start) + 86_400, nanoseconds: 0))
    }
}

/// The folders of the trash view that the kernel has been told about, by day and path.
final class TrashFolders: Sendable {
    struct Key: Hashable, Sendable {
        /// The day's folder name (`2026-12-03`).
        var day: [UInt8]
        /// The original path below the root, components joined by `/`; empty for the day itself.
        var path: [UInt8]
    }

    private let state = Mutex<(ids: [Key: UInt64], keys: [UInt64: Key])>(([:], [:]))

    func id(of key: Key) -> UInt64 {
        state.withLock { s in
            if let id = s.ids[key] { return id }
            let id = UInt64(s.keys.count + 1)
            s.ids[key] = id
            s.keys[id] = key
            return id
        }
    }

    func key(of id: UInt64) -> Key? { state.withLock { $0.keys[id] } }
}

/// The `/.tags` tree: `/.tags/` lists the tags of `user.xdg.tags` (comma-separated) on the
/// documents the caller may read, `/.tags/TAG/` those documents as symlinks to where they are
/// (`../../team/report.odt`), named by their file names (`NAME (2)` for a second of the same name).
/// Its inodes are the trash view's fourth kind: bits 57-58 say root, tag folder (an interned tag)
/// or link: the document's inode in bits 0-36 and 20 bits of a hash of where the link points in
/// bits 37-56, so that a rename gives the link a new inode (the kernel caches symlink targets).
enum TagsView {
    static let name: [UInt8] = Array(".tags".utf8)
    static let attribute: [UInt8] = Array("user.xdg.tags".utf8)
    private static let base: UInt64 = VersionsView.folderLevel << VersionsView.levelShift | 1 << 61 | 3 << 59
    private static let kindShift: UInt64 = 57
    private static let idMask: UInt64 = (1 << kindShift) - 1

    /// `/.search`: a folder per query (`/.search/acme contract/`), listing what it finds.
    static let searchName: [UInt8] = Array(".search".utf8)
    /// The query folder's attribute holding the ranked hits with snippets, as JSON.
    static let hitsAttribute: [UInt8] = Array("user.nexus.search".utf8)

    enum Node: Equatable {
        case root
        /// The root of `/.search`; its folders are `.tag` nodes whose id names a query.
        case searchRoot
        /// A tag's folder, or a query's (see `TagNames`).
        case tag(id: UInt64)
        /// A document, and the hash of its link's target.
        case link(InodeNumber, target: UInt64)
    }

    private static let documentBits: UInt64 = 37

    static func inode(_ node: Node) -> InodeNumber {
        switch node {
        case .root: InodeNumber(base)
        case .searchRoot: InodeNumber(base | 3 << kindShift)
        case .tag(let id): InodeNumber(base | 1 << kindShift | id & idMask)
        case .link(let inode, let target):
            InodeNumber(base | 2 << kindShift | (target & 0xF_FFFF) << documentBits | inode.rawValue & ((1 << documentBits) - 1))
        }
    }

    /// 20 bits of FNV-1a of a link's target.
    static func hash(_ target: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in target { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return (h ^ h >> 20 ^ h >> 40) & 0xF_FFFF
    }

    static func node(_ inode: InodeNumber) -> Node? {
        guard inode.rawValue & ~((1 << 59) - 1) == base else { return nil }
        let rest = inode.rawValue & idMask
        switch (inode.rawValue >> kindShift) & 3 {
        case 0: return .root
        case 1: return .tag(id: rest)
        case 2: return .link(InodeNumber(rest & ((1 << documentBits) - 1)), target: rest >> documentBits & 0xF_FFFF)
        default: return rest == 0 ? .searchRoot : nil
        }
    }

    /// The tags a `user.xdg.tags` value lists that can be folder names.
    static func tags(in value: [UInt8]) -> [[UInt8]] {
        value.split(separator: UInt8(ascii: ",")).map { part in
            Array(part.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 }.reversed())
        }.filter { tag in
            !tag.isEmpty && tag.count <= FileName.maxLength && !tag.contains(UInt8(ascii: "/")) && !tag.contains(0)
                && tag != [0x2e] && tag != [0x2e, 0x2e]
        }
    }
}

/// Tags handed to the kernel as folders of `/.tags`, and queries as folders of `/.search`.
final class TagNames: Sendable {
    /// Keys are a tag or a query with a first byte saying which (0 or 1).
    private let state = Mutex<(ids: [[UInt8]: UInt64], keys: [UInt64: [UInt8]])>(([:], [:]))

    func id(of tag: [UInt8]) -> UInt64 { id(ofKey: [0] + tag) }

    func id(ofQuery query: [UInt8]) -> UInt64 { id(ofKey: [1] + query) }

    private func id(ofKey key: [UInt8]) -> UInt64 {
        state.withLock { s in
            if let id = s.ids[key] { return id }
            let id = UInt64(s.keys.count + 1)
            s.ids[key] = id
            s.keys[id] = key
            return id
        }
    }

    func tag(of id: UInt64) -> [UInt8]? {
        guard let key = state.withLock({ $0.keys[id] }), key.first == 0 else { return nil }
        return Array(key.dropFirst())
    }

    /// The query a `/.search` folder stands for.
    func query(of id: UInt64) -> [UInt8]? {
        guard let key = state.withLock({ $0.keys[id] }), key.first == 1 else { return nil }
        return Array(key.dropFirst())
    }
}
