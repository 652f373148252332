import NexusTypes

/// One catalog transaction's namespace changes, numbered in commit order.
public struct JournalRecord: Sendable, Equatable {
    public var sequence: UInt64
    /// An SQLite changeset of the journaled tables.
    public var changeset: [UInt8]

    public init(sequence: UInt64, changeset: [UInt8]) {
        self.sequence = sequence
        self.changeset = changeset
    }

    /// The sequence number and hash of the newest audit entry this record adds: the record,
    /// encrypted and authenticated in the packs, anchors the audit chain's head at its commit.
    public var newestAuditEntry: (seq: Int64, hash: [UInt8])? {
        JournalCapture.newestAudit(in: changeset)
    }

    /// When the record's changes were made, as far as it says: the newest time of the audit
    /// entries, versions and nodes it adds (nil for a record with none of them).
    public var newestTime: FileTime? {
        JournalCapture.newestTime(in: changeset).map(FileTime.init(totalNanoseconds:))
    }
}

/// What a journal sink throws when its record may already be durable but a later step
/// failed (indexing the sealed packs, say). The catalog rethrows `underlying`, and never
/// hands out that record's sequence again, so no two durable records share one.
public struct JournalRecordWritten: Error, CustomStringConvertible {
    public var underlying: any Error

    public init(underlying: any Error) { self.underlying = underlying }

    public var description: String { "\(underlying)" }
}
