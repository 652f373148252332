/// The DMS access levels (docs/permissions.md). view, edit and the public level are POSIX
/// permissions (an ACL entry or the other class); comment and admin are view and edit plus a
/// marker nexusfs keeps next to the ACL; owner is the node's owner (and root).
public enum AccessLevel: Int, Comparable, Sendable, CaseIterable {
    case none, view, comment, edit, admin, owner

    public static func < (a: AccessLevel, b: AccessLevel) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .none: "none"
        case .view: "view"
        case .comment: "comment"
        case .edit: "edit"
        case .admin: "admin"
        case .owner: "owner"
        }
    }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }

    /// The rwx bits the level's POSIX part grants on a folder or another node.
    func permissions(forFolder folder: Bool) -> UInt32 {
        switch self {
        case .none: 0
        case .view, .comment: folder ? 5 : 4
        case .edit, .admin, .owner: folder ? 7 : 6
        }
    }

    /// The marker kept beside the ACL for levels POSIX cannot say.
    var marker: AccessLevel? { self == .comment || self == .admin ? self : nil }

    /// The level POSIX bits alone give.
    static func from(permissions: UInt32) -> AccessLevel {
        guard permissions & 4 != 0 else { return .none }
        return permissions & 2 != 0 ? .edit : .view
    }
}

/// Who a grant is for.
public enum Principal: Hashable, Sendable {
    case user(UInt32)
    case group(UInt32)
    /// Every user of the mount (the other class).
    case everyone
}

/// The comment and admin markers of one node: who gets the level above their POSIX one, on the
/// node itself (`access`) and, for folders, on what is created inside (`inherited`).
/// Stored in the catalog's attribute table under a name no program can ask for.
struct LevelMarkers: Equatable, Sendable {
    static let attributeName = Array("nexus.markers".utf8)

    struct Marker: Equatable, Sendable {
        var principal: Principal
        var level: AccessLevel
    }

    var access: [Marker] = []
    var inherited: [Marker] = []

    var isEmpty: Bool { access.isEmpty && inherited.isEmpty }

    init() {}

    /// Lines of `a|d u|g ID LEVEL`.
    init(bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let id = UInt32(fields[2]), let level = AccessLevel(name: String(fields[3])) else { continue }
            let principal: Principal = fields[1] == "u" ? .user(id) : .group(id)
            let marker = Marker(principal: principal, level: level)
            if fields[0] == "d" { inherited.append(marker) } else { access.append(marker) }
        }
    }

    var bytes: [UInt8] {
        func lines(_ markers: [Marker], _ scope: String) -> [String] {
            markers.compactMap { marker in
                switch marker.principal {
                case .user(let id): "\(scope) u \(id) \(marker.level.name)"
                case .group(let id): "\(scope) g \(id) \(marker.level.name)"
                case .everyone: nil
                }
            }
        }
        return Array((lines(access, "a") + lines(inherited, "d")).joined(separator: "\n").utf8)
    }

    static func setting(_ markers: [Marker], _ principal: Principal, to level: AccessLevel?) -> [Marker] {
        var list = markers.filter { $0.principal != principal }
        if let level { list.append(Marker(principal: principal, level: level)) }
        return list
    }
}
