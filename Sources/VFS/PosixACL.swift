/// A POSIX access control list in the kernel's xattr form (`system.posix_acl_access`,
/// `system.posix_acl_default`): a 4-byte version (2), then 8-byte entries of tag, permission
/// bits and id, little-endian, sorted by tag then id.
struct PosixACL: Equatable, Sendable {
    enum Tag: UInt16, Sendable {
        case userObject = 0x01, user = 0x02, groupObject = 0x04, group = 0x08, mask = 0x10, other = 0x20
    }

    struct Entry: Equatable, Sendable {
        var tag: Tag
        /// r = 4, w = 2, x = 1.
        var permissions: UInt32
        /// A uid or gid for `user` and `group`; unused otherwise.
        var id: UInt32

        init(_ tag: Tag, _ permissions: UInt32, id: UInt32 = PosixACL.undefinedID) {
            self.tag = tag
            self.permissions = permissions & 7
            self.id = tag == .user || tag == .group ? id : PosixACL.undefinedID
        }
    }

    static let version: UInt32 = 2
    static let undefinedID = UInt32.max
    static let accessName = Array("system.posix_acl_access".utf8)
    static let defaultName = Array("system.posix_acl_default".utf8)

    private(set) var entries: [Entry]

    /// A valid list: one of each object entry, named entries unique, a mask when any named entry exists.
    init(entries: [Entry]) throws {
        let sorted = entries.sorted { ($0.tag.rawValue, $0.id) < ($1.tag.rawValue, $1.id) }
        func count(_ tag: Tag) -> Int { sorted.count { $0.tag == tag } }
        guard count(.userObject) == 1, count(.groupObject) == 1, count(.other) == 1, count(.mask) <= 1 else {
            throw VFSError(.invalid, "an ACL needs exactly one owner, owning group and other entry")
        }
        let named = sorted.filter { $0.tag == .user || $0.tag == .group }
        guard Set(named.map { "\($0.tag.rawValue):\($0.id)" }).count == named.count else {
            throw VFSError(.invalid, "duplicate ACL entry")
        }
        guard named.isEmpty || count(.mask) == 1 else { throw VFSError(.invalid, "an ACL with named entries needs a mask") }
        self.entries = sorted
    }

    /// The three entries a mode says.
    init(mode: UInt32) {
        entries = [Entry(.userObject, mode >> 6), Entry(.groupObject, mode >> 3), Entry(.other, mode)]
    }

    init(xattr bytes: [UInt8]) throws {
        func word32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        guard bytes.count >= 4, (bytes.count - 4) % 8 == 0, word32(0) == Self.version else {
            throw VFSError(.invalid, "not a POSIX ACL")
        }
        var entries: [Entry] = []
        for at in stride(from: 4, to: bytes.count, by: 8) {
            let rawTag = UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
            let permissions = UInt32(bytes[at + 2]) | UInt32(bytes[at + 3]) << 8
            guard let tag = Tag(rawValue: rawTag), permissions & ~7 == 0 else { throw VFSError(.invalid, "bad ACL entry") }
            entries.append(Entry(tag, permissions, id: word32(at + 4)))
        }
        try self.init(entries: entries)
    }

    var xattr: [UInt8] {
        var bytes: [UInt8] = []
        func append32(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) } }
        append32(Self.version)
        for entry in entries {
            bytes.append(UInt8(entry.tag.rawValue & 0xff))
            bytes.append(UInt8(entry.tag.rawValue >> 8))
            bytes.append(UInt8(entry.permissions))
            bytes.append(0)
            append32(entry.id)
        }
        return bytes
    }

    /// The owner, owning group and other entries alone (no named entries, no mask).
    var objectEntries: PosixACL {
        var copy = self
        copy.entries.removeAll { $0.tag != .userObject && $0.tag != .groupObject && $0.tag != .other }
        return copy
    }

    /// Only the three entries a mode can say: no need to store it.
    var isMinimal: Bool { entries.count == 3 }

    func entry(_ tag: Tag) -> Entry? { entries.first { $0.tag == tag } }

    /// The rwx bits of the mode this ACL implies (the group class is the mask when there is one).
    var modeBits: UInt32 {
        let owner = entry(.userObject)?.permissions ?? 0
        let group = (entry(.mask) ?? entry(.groupObject))?.permissions ?? 0
        let other = entry(.other)?.permissions ?? 0
        return owner << 6 | group << 3 | other
    }

    /// The list after chmod: owner, group class (the mask if any) and other take the mode's bits.
    func applying(mode: UInt32) -> PosixACL {
        var copy = self
        let groupClass: Tag = entry(.mask) == nil ? .groupObject : .mask
        for index in copy.entries.indices {
            switch copy.entries[index].tag {
            case .userObject: copy.entries[index].permissions = mode >> 6 & 7
            case groupClass: copy.entries[index].permissions = mode >> 3 & 7
            case .other: copy.entries[index].permissions = mode & 7
            default: break
            }
        }
        return copy
    }

    /// The access list a new node gets from its folder's default list and the mode it was created
    /// with (POSIX.1e: each class is limited by the mode's bits; the umask does not apply).
    func inherited(creationMode mode: UInt32) -> PosixACL {
        var copy = self
        let groupClass: Tag = entry(.mask) == nil ? .groupObject : .mask
        for index in copy.entries.indices {
            switch copy.entries[index].tag {
            case .userObject: copy.entries[index].permissions &= mode >> 6 & 7
            case groupClass: copy.entries[index].permissions &= mode >> 3 & 7
            case .other: copy.entries[index].permissions &= mode & 7
            default: break
            }
        }
        return copy
    }

    /// The same list with the mask entry set to `bits` (when it has one).
    func withMask(_ bits: UInt32) -> PosixACL {
        var copy = self
        for index in copy.entries.indices where copy.entries[index].tag == .mask { copy.entries[index].permissions = bits & 7 }
        return copy
    }

    /// Every entry's permission bits through `transform`.
    func mapping(_ transform: (UInt32) -> UInt32) -> PosixACL {
        var copy = self
        for index in copy.entries.indices { copy.entries[index].permissions = transform(copy.entries[index].permissions) & 7 }
        return copy
    }

    /// Adds or replaces the named entry, then recomputes the mask as the union of the group class
    /// (as setfacl does), adding one if needed.
    func setting(_ tag: Tag, id: UInt32, permissions: UInt32?) -> PosixACL {
        var list = entries.filter { !($0.tag == tag && $0.id == id) }
        if let permissions { list.append(Entry(tag, permissions, id: id)) }
        let named = list.filter { $0.tag == .user || $0.tag == .group }
        list.removeAll { $0.tag == .mask }
        if !named.isEmpty {
            let union = list.filter { $0.tag == .user || $0.tag == .group || $0.tag == .groupObject }
                .reduce(UInt32(0)) { $0 | $1.permissions }
            list.append(Entry(.mask, union))
        }
        // Valid by construction: the object entries are kept, named ones are unique.
        return (try? PosixACL(entries: list)) ?? self
    }

    /// Whether the POSIX.1e access check (as Linux does it) grants `requested` (rwx bits) to `uid`
    /// with groups `groups` on a node owned by `owner`:`ownerGroup`: the owner entry, else a named
    /// user entry, else one matching group entry that holds every requested bit, else other.
    func allows(_ requested: UInt32, uid: UInt32, groups: [UInt32], owner: UInt32, ownerGroup: UInt32) -> Bool {
        func covers(_ bits: UInt32) -> Bool { bits & requested == requested }
        if uid == owner { return covers(entry(.userObject)?.permissions ?? 0) }
        let mask = entry(.mask)?.permissions ?? 7
        if let named = entries.first(where: { $0.tag == .user && $0.id == uid }) { return covers(named.permissions & mask) }
        var matched = false
        for entry in entries {
            let member = switch entry.tag {
            case .groupObject: groups.contains(ownerGroup)
            case .group: groups.contains(entry.id)
            default: false
            }
            guard member else { continue }
            if covers(entry.permissions & mask) { return true }
            matched = true
        }
        return !matched && covers(entry(.other)?.permissions ?? 0)
    }

    /// The rwx bits `allows` grants, each bit asked alone.
    func permissions(uid: UInt32, groups: [UInt32], owner: UInt32, ownerGroup: UInt32) -> UInt32 {
        [4, 2, 1].reduce(UInt32(0)) { bits, bit in
            allows(bit, uid: uid, groups: groups, owner: owner, ownerGroup: ownerGroup) ? bits | bit : bits
        }
    }
}
