/// One catalog transaction's namespace changes, numbered in commit order.
public struct JournalRecord: Sendable, Equatable {
    public var sequence: UInt64
    /// An SQLite changeset of the journaled tables.
    public var changeset: [UInt8]

    public init(sequence: UInt64, changeset: [UInt8]) {
        self.sequence = sequence
        self.changeset = changeset
    }
}
