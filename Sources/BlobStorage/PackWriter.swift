import CryptoCore
import Glibc
import NexusTypes
import Synchronization

/// Appends encrypted frames to one new pack in a temporary file, then seals it
/// (table of contents, trailer, fsync, rename, fsync of the directory).
/// Not thread-safe: frames are added under the BlobStore's `state` lock, the seal happens
/// once no more are added (under `sealing`), and `readFrame` only reads frames already
/// written, through the descriptor (which outlives the rename), hence unchecked.
final class PackWriter: @unchecked Sendable {
    let name: PackName
    let temporaryPath: String
    private let key: SymmetricKey
    private let fd: Int32
    private(set) var length: UInt64
    private(set) var entries: [PackEntry] = []
    private var closed = false
    /// Set once the pack is durable under its final name; the descriptor stays open for readers.
    private var sealed = false
    /// Taken by readers of frames and by `abandon`, which closes the descriptor under it.
    private let closing = Mutex(())
    private var abandoned = false

    init(directory: String, keys: BlobKeys) throws {
        name = PackName(bytes: SecureRandom.bytes(PackName.byteCount))!
        key = try PackFormat.packKey(keys, pack: name)
        temporaryPath = directory + "/" + name.hex + ".tmp"
        fd = try PackFile.open(temporaryPath, flags: O_RDWR | O_CREAT | O_EXCL | O_TRUNC, mode: 0o400)
        length = 0
        do {
            try append(PackFormat.headerMagic + name.bytes)
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        if sealed { Glibc.close(fd) } else { abandon() }
    }

    var blobCount: Int { entries.count }

    /// Adds one blob whose payload is already compressed (or not) by the caller.
    /// Returns the entry, with the frame's offset and length.
    @discardableResult
    func add(id: BlobID, kind: BlobKind, compressed: Bool, rawLength: UInt32, payload: UnsafeRawBufferPointer) throws -> PackEntry {
        let index = UInt64(entries.count)
        let header = try AESGCM.seal(
            PackFormat.encodeFrameHeader(kind: kind, compressed: compressed, rawLength: rawLength, id: id),
            key: key, nonce: PackFormat.nonce(.frameHeader, index),
            authenticating: PackFormat.frameHeaderAAD(pack: name, index: index))
        let sealed = try AESGCM.seal(payload, key: key, nonce: PackFormat.nonce(.payload, index),
                                     authenticating: PackFormat.payloadAAD(pack: name, index: index, kind: kind, id: id))
        let frameLength = PackFormat.framePrefixLength + header.count + sealed.count
        let frame = PackFormat.le(UInt32(frameLength)) + PackFormat.le(UInt32(index)) + header + sealed
        let entry = PackEntry(id: id, kind: kind, compressed: compressed, rawLength: rawLength,
                              offset: length, frameLength: UInt32(frameLength))
        try append(frame)
        entries.append(entry)
        return entry
    }

    /// Reads back a frame written to this pack before its blobs are indexed (also while it is
    /// sealed). Fails once the pack was abandoned: its descriptor is closed, under `closing`.
    func readFrame(_ entry: PackEntry) throws -> [UInt8] {
        try closing.withLock { _ in
            guard !abandoned else { throw BlobStoreError(.notFound, "pack \(name.hex) was dropped before it was sealed") }
            return try PackFile.read(fd, count: Int(entry.frameLength), at: entry.offset, path: temporaryPath)
        }
    }

    /// Writes the table of contents and trailer, then makes the pack durable at
    /// `finalPath`: fsync, rename, fsync of `directory` (the folder holding `finalPath`).
    func seal(into finalPath: String, directory: String) throws {
        let count = UInt64(entries.count)
        let toc = try AESGCM.seal(PackFormat.encodeTOC(entries), key: key, nonce: PackFormat.nonce(.toc, 0),
                                  authenticating: PackFormat.tocAAD(pack: name, count: count))
        // Until the rename, a failure leaves the pack as it was before the seal (its frames, no
        // trailer), so that the seal can be tried again once there is room.
        let frames = length
        try append(toc + PackFormat.le(UInt32(toc.count)) + PackFormat.le(UInt32(count)) + PackFormat.trailerMagic)
        do {
            try PackFile.sync(fd, path: temporaryPath)
        } catch {
            _ = ftruncate(fd, off_t(frames))
            length = frames
            throw error
        }
        guard rename(temporaryPath, finalPath) == 0 else {
            let error = BlobStoreError.system("rename", finalPath)
            abandon()
            throw error
        }
        closed = true
        sealed = true
        do {
            try PackFile.syncDirectory(directory)
        } catch var error as BlobStoreError {
            error.afterRename = true
            throw error
        }
    }

    /// Whether the pack is past sealing: renamed into place, or abandoned.
    var isClosed: Bool { closed }

    /// Whether the pack was renamed into place (its frames stay readable through the descriptor).
    var isSealed: Bool { sealed }

    /// Drops an unsealed pack.
    func abandon() {
        guard !closed else { return }
        closed = true
        closing.withLock { _ in
            abandoned = true
            Glibc.close(fd)
        }
        unlink(temporaryPath)
    }

    private func append(_ bytes: [UInt8]) throws {
        do {
            try PackFile.write(fd, bytes, at: length, path: temporaryPath)
        } catch {
            // No partial frame may stay behind (a full disk): the seal writes its trailer at
            // `length`, and bytes left past it would make the whole pack unreadable.
            _ = ftruncate(fd, off_t(length))
            throw error
        }
        length += UInt64(bytes.count)
    }
}
