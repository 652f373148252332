import NexusTypes

/// Whether an audited operation took effect or was refused.
public enum AuditOutcome: String, Sendable, Equatable {
    case done
    case refused
}

/// One audited operation or decision: who did what to which document, and when.
public struct AuditEvent: Sendable, Equatable {
    public var time: FileTime
    public var uid: UInt32
    /// What was done, e.g. `write`, `rename`, `grant`, `status`.
    public var action: String
    /// The node concerned, when there is one.
    public var inode: InodeNumber?
    /// The repository path concerned, as bytes (`/a/b.txt`); names need not be UTF-8.
    public var path: [UInt8]
    /// The state before and after, in the action's own words (`draft`, `alice:edit`).
    public var before: String?
    public var after: String?
    public var outcome: AuditOutcome

    public init(time: FileTime, uid: UInt32, action: String, inode: InodeNumber? = nil, path: [UInt8],
                before: String? = nil, after: String? = nil, outcome: AuditOutcome = .done) {
        self.time = time
        self.uid = uid
        self.action = action
        self.inode = inode
        self.path = path
        self.before = before
        self.after = after
        self.outcome = outcome
    }

    /// The path for display (undecodable bytes escaped).
    public var printablePath: String { FileName.printable(path) }
}

/// An event as stored in the audit log: its sequence number and chain hash.
public struct AuditEntry: Sendable, Equatable {
    /// 1 for the first entry, one more for each after it.
    public var seq: Int64
    public var event: AuditEvent
    /// HMAC-SHA256 over the previous entry's hash and this entry (see `AuditLog`).
    public var hash: [UInt8]

    public init(seq: Int64, event: AuditEvent, hash: [UInt8]) {
        self.seq = seq
        self.event = event
        self.hash = hash
    }
}

/// Which audit entries to list; nil fields do not filter.
public struct AuditFilter: Sendable, Equatable {
    /// Entries whose path is this one or lies below it.
    public var path: RepositoryPath?
    public var uid: UInt32?
    /// Entries at or after this time.
    public var since: FileTime?

    public init(path: RepositoryPath? = nil, uid: UInt32? = nil, since: FileTime? = nil) {
        self.path = path
        self.uid = uid
        self.since = since
    }
}

/// The first place where the stored audit log is not the chain that was written.
public struct AuditDamage: Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        /// The entry does not match its hash, and no other stored entry belongs here: it was changed.
        case edited
        /// No entry has this sequence number; the next stored one is `next`.
        case removed(next: Int64)
        /// The entry that belongs at this sequence number is stored at `storedAt`: entries were swapped or moved.
        case reordered(storedAt: Int64)
        /// The log ends before this entry, but the journal in the packs holds entries up to
        /// `journaled`: the newest entries were removed.
        case truncated(journaled: Int64)
    }

    public var seq: Int64
    public var problem: Problem
    /// The entry stored at `seq`, when there is one and its columns decode.
    public var entry: AuditEntry?

    public init(seq: Int64, problem: Problem, entry: AuditEntry?) {
        self.seq = seq
        self.problem = problem
        self.entry = entry
    }

    public var description: String {
        switch problem {
        case .edited: "audit entry \(seq) was changed: it does not match its hash"
        case .removed(let next) where next == seq + 1: "audit entry \(seq) was removed"
        case .removed(let next): "audit entries \(seq) to \(next - 1) were removed"
        case .reordered(let storedAt): "audit entries were reordered: entry \(seq) is stored at \(storedAt)"
        case .truncated(let journaled): "audit entries \(seq) to \(journaled) were removed: the journal holds them"
        }
    }
}

/// A comment on a node. Comments outlive the node (`deleteNode` keeps them) for the record.
public struct CommentRecord: Sendable, Equatable {
    public var id: Int64
    public var inode: InodeNumber
    public var time: FileTime
    public var uid: UInt32
    public var text: String

    public init(id: Int64, inode: InodeNumber, time: FileTime, uid: UInt32, text: String) {
        self.id = id
        self.inode = inode
        self.time = time
        self.uid = uid
        self.text = text
    }
}

/// A node in the trash: deleted through a mount by `uid` at `time` from `path`, kept with its
/// content, history and attributes until restored or expired.
public struct TrashRecord: Sendable, Equatable {
    public var inode: InodeNumber
    /// The path it had, from the root: `team/report.odt` (no leading slash).
    public var path: [UInt8]
    public var time: FileTime
    public var uid: UInt32

    public init(inode: InodeNumber, path: [UInt8], time: FileTime, uid: UInt32) {
        self.inode = inode
        self.path = path
        self.time = time
        self.uid = uid
    }
}
