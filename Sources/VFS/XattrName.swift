import NexusTypes

/// Names of the extended attributes the volume gives a meaning, and the classes of names it
/// keeps, computes or refuses (docs/metadata.md).
enum XattrName {
    static let status = Array("user.nexus.status".utf8)
    static let lock = Array("user.nexus.lock".utf8)
    static let hold = Array("user.nexus.hold".utf8)
    /// Who holds the lock: a uid, kept beside `user.nexus.lock` where no program sees it.
    static let lockHolder = Array("nexus.lock-holder".utf8)
    static let computed: Set<[UInt8]> = Set(["version", "sha256", "id", "access", "locked-by", "grants", "comments", "author"]
        .map { Array("user.nexus.\($0)".utf8) })
    static let grantRequest = Array("system.nexus.grant".utf8)
    static let commentRequest = Array("system.nexus.comment".utf8)

    /// Namespaces kept as they are. The kernel decides who may set `trusted.*` and `security.*`
    /// (CAP_SYS_ADMIN; CAP_SETFCAP for `security.capability`, which it also removes when a file is
    /// written or changes owner), as on ext4.
    static func isStored(_ name: [UInt8]) -> Bool {
        (name.starts(with: user) && !computed.contains(name)) || name.starts(with: trusted) || name.starts(with: security)
    }

    static let namespaces = [user, trusted, security]
    private static let user = Array("user.".utf8)
    private static let trusted = Array("trusted.".utf8)
    private static let security = Array("security.".utf8)

    static func isACL(_ name: [UInt8]) -> Bool { name == PosixACL.accessName || name == PosixACL.defaultName }

    /// Attributes that say who may do what and go with a document's identity across saves.
    static func isIdentity(_ name: [UInt8]) -> Bool {
        XattrName.isACL(name) || name == LevelMarkers.attributeName || name == lockHolder || name == status
            || name == lock || name == hold
    }
}
