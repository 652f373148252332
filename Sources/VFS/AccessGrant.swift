import NexusTypes

/// One line of `nexusfs access`.
public struct AccessGrant: Sendable, Equatable {
    public var principal: Principal
    public var level: AccessLevel
    public var reason: String
}

extension AccessGrant: Encodable {
    enum CodingKeys: String, CodingKey { case principal, kind, id, level, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch principal {
        case .user(let uid):
            try container.encode("user", forKey: .kind)
            try container.encode(uid, forKey: .id)
            try container.encode(UserNames.name(ofUser: uid), forKey: .principal)
        case .group(let gid):
            try container.encode("group", forKey: .kind)
            try container.encode(gid, forKey: .id)
            try container.encode(UserNames.name(ofGroup: gid), forKey: .principal)
        case .everyone:
            try container.encode("public", forKey: .kind)
            try container.encode("public", forKey: .principal)
        }
        try container.encode(level.name, forKey: .level)
        try container.encode(reason, forKey: .reason)
    }
}
