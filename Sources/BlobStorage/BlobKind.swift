/// What a blob holds; stored in each frame and in the pack's table of contents.
public enum BlobKind: UInt8, Sendable, CaseIterable {
    /// A chunk of document content.
    case data = 0
    /// One catalog journal record.
    case journal = 1
    /// A catalog checkpoint: its journal sequence and the chunks of the catalog image.
    case checkpoint = 2
    /// A chunk of a checkpoint's catalog image.
    case catalogImage = 3
}

/// One blob's place in a pack, as the table of contents lists it.
public struct PackEntry: Sendable, Equatable {
    public var id: BlobID
    public var kind: BlobKind
    public var compressed: Bool
    /// Plaintext length before compression.
    public var rawLength: UInt32
    /// Offset of the frame from the start of the pack.
    public var offset: UInt64
    /// Length of the whole frame, prefix included.
    public var frameLength: UInt32

    public init(id: BlobID, kind: BlobKind, compressed: Bool, rawLength: UInt32, offset: UInt64, frameLength: UInt32) {
        self.id = id
        self.kind = kind
        self.compressed = compressed
        self.rawLength = rawLength
        self.offset = offset
        self.frameLength = frameLength
    }
}

import NexusTypes
