/// What a namespace node is; the raw values are the `S_IFMT` bits and are stored.
public enum NodeKind: UInt32, Sendable, CaseIterable {
    case regular = 0o100000
    case directory = 0o040000
    case symlink = 0o120000
    case fifo = 0o010000
    case characterDevice = 0o020000
    case blockDevice = 0o060000
    case socket = 0o140000

    public static let typeMask: UInt32 = 0o170000

    /// The kind encoded in a full `st_mode`.
    public init?(mode: UInt32) { self.init(rawValue: mode & Self.typeMask) }
}
