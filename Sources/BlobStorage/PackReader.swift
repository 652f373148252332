import CryptoCore
import Glibc
import NexusTypes

/// Reads and authenticates the blobs of one sealed pack.
final class PackReader: Sendable {
    let name: PackName
    let path: String
    private let key: SymmetricKey
    private let fd: Int32

    init(path: String, name: PackName, keys: BlobKeys) throws {
        self.path = path
        self.name = name
        key = try PackFormat.packKey(keys, pack: name)
        fd = try PackFile.open(path, flags: O_RDONLY)
    }

    deinit { Glibc.close(fd) }

    var fileLength: UInt64 { get throws { try PackFile.size(fd, path: path) } }

    /// The table of contents, authenticated. The header is not needed for it (the pack's name in
    /// every AAD comes from the file name), so a damaged header hides nothing: `headerProblem()`.
    func tableOfContents() throws -> [PackEntry] {
        let size = try fileLength
        guard size >= UInt64(PackFormat.headerLength + PackFormat.trailerLength) else {
            throw BlobStoreError(.corrupt, "pack \(path) is truncated (\(size) bytes)")
        }
        let trailer = try PackFile.read(fd, count: PackFormat.trailerLength, at: size - UInt64(PackFormat.trailerLength), path: path)
        guard Array(trailer[8..<16]) == PackFormat.trailerMagic else {
            throw BlobStoreError(.corrupt, "pack \(path) has no valid trailer (truncated or damaged)")
        }
        let tocLength = UInt64(PackFormat.readLE(trailer, at: 0) as UInt32)
        let count = UInt64(PackFormat.readLE(trailer, at: 4) as UInt32)
        guard tocLength + UInt64(PackFormat.trailerLength + PackFormat.headerLength) <= size else {
            throw BlobStoreError(.corrupt, "pack \(path) has a table of contents longer than the pack")
        }
        let sealed = try PackFile.read(fd, count: Int(tocLength), at: size - UInt64(PackFormat.trailerLength) - tocLength, path: path)
        let plain: [UInt8]
        do {
            plain = try AESGCM.open(sealed, key: key, nonce: PackFormat.nonce(.toc, 0),
                                    authenticating: PackFormat.tocAAD(pack: name, count: count))
        } catch {
            throw BlobStoreError(.corrupt, "pack \(path): table of contents fails authentication")
        }
        guard let entries = PackFormat.decodeTOC(plain), entries.count == Int(count) else {
            throw BlobStoreError(.corrupt, "pack \(path): table of contents is malformed")
        }
        return entries
    }

    /// Reads and authenticates the blob described by `entry`; returns its stored payload
    /// (still compressed when `entry.compressed`).
    func payload(of entry: PackEntry) throws -> [UInt8] {
        let frame = try PackFile.read(fd, count: Int(entry.frameLength), at: entry.offset, path: path)
        return try Self.open(frame: frame, expected: entry, pack: name, key: key, path: path).payload
    }

    /// Walks the frames from the start without the table of contents, authenticating
    /// each; stops at the first frame that does not decode (reported through the result).
    func scanFrames(_ visit: (PackEntry, [UInt8]) throws -> Void) throws -> BlobStoreError? {
        let size = try fileLength
        var offset = UInt64(PackFormat.headerLength)
        var index: UInt32 = 0
        while offset + UInt64(PackFormat.framePrefixLength) <= size {
            let prefix = try PackFile.read(fd, count: PackFormat.framePrefixLength, at: offset, path: path)
            let frameLength = UInt64(PackFormat.readLE(prefix, at: 0) as UInt32)
            let frameIndex: UInt32 = PackFormat.readLE(prefix, at: 4)
            // The table of contents follows the last frame; its first bytes are no frame of this index.
            guard frameIndex == index, frameLength >= UInt64(PackFormat.framePrefixLength + PackFormat.frameHeaderSealedLength + AESGCM.tagSize),
                  offset + frameLength <= size else { break }
            let frame = try PackFile.read(fd, count: Int(frameLength), at: offset, path: path)
            do {
                let (entry, payload) = try Self.open(frame: frame, expected: nil, pack: name, key: key, path: path, offset: offset)
                try visit(entry, payload)
            } catch let error as BlobStoreError {
                return error
            }
            offset += frameLength
            index += 1
        }
        return nil
    }

    /// What is wrong with the header (magic and name), or nil. Reading needs no header, so this
    /// is damage to report, not a reason to give up the pack's blobs.
    func headerProblem() throws -> String? {
        guard try fileLength >= UInt64(PackFormat.headerLength) else { return "pack \(path) has no complete header" }
        let header = try PackFile.read(fd, count: PackFormat.headerLength, at: 0, path: path)
        guard Array(header[0..<8]) == PackFormat.headerMagic else {
            return "pack \(path) has a damaged header (bad magic)"
        }
        guard Array(header[8..<24]) == name.bytes else {
            return "pack \(path) has a damaged header: it names itself \(Hex.encode(header[8..<24]))"
        }
        return nil
    }

    /// Decrypts one frame; with `expected`, checks it is that blob.
    static func open(frame: [UInt8], expected: PackEntry?, pack: PackName, key: SymmetricKey, path: String,
                     offset: UInt64? = nil) throws -> (entry: PackEntry, payload: [UInt8]) {
        let at = offset ?? expected?.offset ?? 0
        let minimum = PackFormat.framePrefixLength + PackFormat.frameHeaderSealedLength + AESGCM.tagSize
        guard frame.count >= minimum, Int(PackFormat.readLE(frame, at: 0) as UInt32) == frame.count else {
            throw BlobStoreError(.corrupt, "pack \(path): frame at byte \(at) has a bad length")
        }
        let index = UInt64(PackFormat.readLE(frame, at: 4) as UInt32)
        let headerEnd = PackFormat.framePrefixLength + PackFormat.frameHeaderSealedLength
        let headerBytes: [UInt8]
        do {
            headerBytes = try AESGCM.open(Array(frame[PackFormat.framePrefixLength..<headerEnd]), key: key,
                                          nonce: PackFormat.nonce(.frameHeader, index),
                                          authenticating: PackFormat.frameHeaderAAD(pack: pack, index: index))
        } catch {
            throw BlobStoreError(.corrupt, "pack \(path): frame header at byte \(at) fails authentication")
        }
        guard let header = PackFormat.decodeFrameHeader(headerBytes) else {
            throw BlobStoreError(.corrupt, "pack \(path): frame header at byte \(at) is malformed")
        }
        if let expected, expected.id != header.id || expected.kind != header.kind {
            throw BlobStoreError(.corrupt, "pack \(path): frame at byte \(at) holds blob \(header.id.short), not \(expected.id.short)")
        }
        let payload: [UInt8]
        do {
            payload = try frame[headerEnd...].withUnsafeBytes { sealed in
                try AESGCM.open(sealed, key: key, nonce: PackFormat.nonce(.payload, index),
                                authenticating: PackFormat.payloadAAD(pack: pack, index: index, kind: header.kind, id: header.id))
            }
        } catch {
            throw BlobStoreError(.corrupt, "pack \(path): blob \(header.id.short) at byte \(at) fails authentication")
        }
        let entry = PackEntry(id: header.id, kind: header.kind, compressed: header.compressed, rawLength: header.rawLength,
                              offset: at, frameLength: UInt32(frame.count))
        return (entry, payload)
    }
}
