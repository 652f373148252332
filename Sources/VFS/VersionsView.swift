import CatalogStore
import NexusTypes

/// The read-only `.versions` tree: `DIR/.versions/` lists the documents of DIR that have
/// history, `DIR/.versions/NAME/` their versions as `STEM.NNNNN.EXT`. Its inodes are
/// virtual: the top two bits say which level, the rest which folder, document or version.
enum VersionsView {
    static let name: [UInt8] = Array(".versions".utf8)
    static let levelShift: UInt64 = 62
    static let folderLevel: UInt64 = 1
    static let documentLevel: UInt64 = 2
    static let versionLevel: UInt64 = 3
    static let numberBits: UInt64 = 24

    enum Node: Equatable {
        /// `DIR/.versions` of the real folder DIR.
        case folder(InodeNumber)
        /// `DIR/.versions/NAME` of one document.
        case document(Int64)
        /// One version file.
        case version(document: Int64, number: VersionNumber)
    }

    static func inode(_ node: Node) -> InodeNumber {
        switch node {
        case .folder(let dir): InodeNumber(folderLevel << levelShift | dir.rawValue)
        case .document(let document): InodeNumber(documentLevel << levelShift | UInt64(document))
        case .version(let document, let number):
            InodeNumber(versionLevel << levelShift | UInt64(document) << numberBits | UInt64(number.rawValue))
        }
    }

    /// The view node an inode number stands for, or nil for a real inode.
    static func node(_ inode: InodeNumber) -> Node? {
        let level = inode.rawValue >> levelShift
        let rest = inode.rawValue & ((1 << levelShift) - 1)
        switch level {
        case folderLevel: return rest >> 61 == 0 ? .folder(InodeNumber(rest)) : nil     // bit 61: the trash view
        case documentLevel: return rest >> 61 == 0 ? .document(Int64(rest)) : nil     // bit 61: the /.at view
        case versionLevel:
            return .version(document: Int64(rest >> numberBits), number: VersionNumber(Int64(rest & ((1 << numberBits) - 1))))
        default: return nil
        }
    }

    static func isVirtual(_ inode: InodeNumber) -> Bool { inode.rawValue >> levelShift != 0 }

    /// EROFS for anything that would change the `.versions` view (or another virtual one).
    static func refuseVirtual(_ inodes: InodeNumber...) throws {
        if inodes.contains(where: AtView.contains) { throw VFSError(.readOnly, "the past views of /.at are read-only") }
        if inodes.contains(where: isVirtual) { throw VFSError(.readOnly, "the version history is read-only") }
    }

    /// `report.txt` version 3 is `report.00003.txt`; `.bashrc` and `Makefile` have no extension.
    /// A name too long to take the number loses the end of its stem (at a character boundary),
    /// so that every version has a name of at most 255 bytes.
    static func fileName(of document: [UInt8], number: VersionNumber) -> [UInt8] {
        var (stem, ext) = split(document)
        var digits = Array(String(number.rawValue).utf8)
        while digits.count < 5 { digits.insert(UInt8(ascii: "0"), at: 0) }
        // An extension that leaves the stem less than half the room is part of the stem.
        if ext.count + 1 > FileName.maxLength / 2 { (stem, ext) = (document, []) }
        let suffix = 1 + digits.count + (ext.isEmpty ? 0 : 1 + ext.count)
        stem = prefix(of: stem, fitting: FileName.maxLength - suffix)
        return stem + [UInt8(ascii: ".")] + digits + (ext.isEmpty ? [] : [UInt8(ascii: ".")] + ext)
    }

    /// The first bytes of `name`, at most `room`, without a character cut in two.
    private static func prefix(of name: [UInt8], fitting room: Int) -> [UInt8] {
        guard name.count > room else { return name }
        var cut = room
        // A UTF-8 continuation byte (10xxxxxx) at the cut: the character starts before it.
        while cut > 0 && name[cut] & 0xC0 == 0x80 { cut -= 1 }
        // Not UTF-8 at all (names are bytes): cut where the room ends.
        return Array(name[..<(cut > 0 ? cut : room)])
    }

    /// The version number a file name in a document's folder stands for: a `.NNNNN` run whose
    /// number gives this very name back.
    static func number(in fileName: [UInt8], of document: [UInt8]) -> VersionNumber? {
        for dot in fileName.indices where fileName[dot] == UInt8(ascii: ".") {
            let digits = fileName[(dot + 1)...].prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard digits.count >= 5, digits.count <= 18, let value = Int64(String(decoding: digits, as: UTF8.self)),
                  value > 0, fileName == Self.fileName(of: document, number: VersionNumber(value)) else { continue }
            return VersionNumber(value)
        }
        return nil
    }

    /// Splits at the last dot that is not the first byte.
    static func split(_ name: [UInt8]) -> (stem: [UInt8], ext: [UInt8]) {
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0, dot < name.count - 1 else { return (name, []) }
        return (Array(name[..<dot]), Array(name[(dot + 1)...]))
    }
}

extension Volume {
    /// Whether an inode number belongs to the `.versions` view.
    public static func isVersionsView(_ inode: InodeNumber) -> Bool { VersionsView.isVirtual(inode) }
}
