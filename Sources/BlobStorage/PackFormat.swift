import CryptoCore
import NexusTypes

/// The byte layout of pack files (docs/repository-format.md, "Packs").
///
///     header   "NXSPACK1" | pack name (16)
///     frame i  u32 frame length | u32 i | sealed frame header (40 + 16) | sealed payload
///     toc      sealed table of contents
///     trailer  u32 sealed toc length | u32 blob count | "NXSPEND1"
///
/// Every record is AES-256-GCM under the pack key (HKDF of the data key with the
/// pack name as salt); nonces are (domain, index), unique within the pack.
enum PackFormat {
    static let headerMagic = Array("NXSPACK1".utf8)
    static let trailerMagic = Array("NXSPEND1".utf8)
    static let headerLength = 8 + 16
    static let trailerLength = 16
    static let framePrefixLength = 8
    static let frameHeaderPlainLength = 40
    static let frameHeaderSealedLength = frameHeaderPlainLength + AESGCM.tagSize
    static let tocEntryLength = 1 + 1 + 2 + 4 + 8 + 4 + 32

    enum Domain: UInt8 {
        case frameHeader = 1
        case payload = 2
        case toc = 3
    }

    static func packKey(_ keys: BlobKeys, pack: PackName) throws -> SymmetricKey {
        try HKDF.deriveKey(from: keys.data, salt: pack.bytes, info: Array("nexusfs pack key v1".utf8))
    }

    static func nonce(_ domain: Domain, _ index: UInt64) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: 12)
        n[0] = domain.rawValue
        for k in 0..<8 { n[4 + k] = UInt8(truncatingIfNeeded: index >> (8 * UInt64(k))) }
        return n
    }

    static func frameHeaderAAD(pack: PackName, index: UInt64) -> [UInt8] {
        Array("nexusfs frame".utf8) + pack.bytes + le(index)
    }

    static func payloadAAD(pack: PackName, index: UInt64, kind: BlobKind, id: BlobID) -> [UInt8] {
        Array("nexusfs blob".utf8) + pack.bytes + le(index) + [kind.rawValue] + id.bytes
    }

    static func tocAAD(pack: PackName, count: UInt64) -> [UInt8] {
        Array("nexusfs toc".utf8) + pack.bytes + le(count)
    }

    /// kind | flags | 0 0 | rawLength u32 | id
    static func encodeFrameHeader(kind: BlobKind, compressed: Bool, rawLength: UInt32, id: BlobID) -> [UInt8] {
        [kind.rawValue, compressed ? 1 : 0, 0, 0] + le(rawLength) + id.bytes
    }

    static func decodeFrameHeader(_ bytes: [UInt8]) -> (kind: BlobKind, compressed: Bool, rawLength: UInt32, id: BlobID)? {
        guard bytes.count == frameHeaderPlainLength, let kind = BlobKind(rawValue: bytes[0]), bytes[1] <= 1,
              let id = BlobID(bytes: Array(bytes[8..<40])) else { return nil }
        return (kind, bytes[1] == 1, readLE(bytes, at: 4), id)
    }

    static func encodeTOC(_ entries: [PackEntry]) -> [UInt8] {
        var out = le(UInt32(entries.count))
        out.reserveCapacity(4 + entries.count * tocEntryLength)
        for e in entries {
            out += [e.kind.rawValue, e.compressed ? 1 : 0, 0, 0]
            out += le(e.rawLength) + le(e.offset) + le(e.frameLength) + e.id.bytes
        }
        return out
    }

    static func decodeTOC(_ bytes: [UInt8]) -> [PackEntry]? {
        guard bytes.count >= 4 else { return nil }
        let count = Int(readLE(bytes, at: 0) as UInt32)
        guard bytes.count == 4 + count * tocEntryLength else { return nil }
        var entries = [PackEntry]()
        entries.reserveCapacity(count)
        for i in 0..<count {
            let base = 4 + i * tocEntryLength
            guard let kind = BlobKind(rawValue: bytes[base]), bytes[base + 1] <= 1,
                  let id = BlobID(bytes: Array(bytes[base + 20..<base + 52])) else { return nil }
            entries.append(PackEntry(id: id, kind: kind, compressed: bytes[base + 1] == 1,
                                     rawLength: readLE(bytes, at: base + 4), offset: readLE(bytes, at: base + 8),
                                     frameLength: readLE(bytes, at: base + 16)))
        }
        return entries
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for k in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + k]) << (8 * k) }
        return value
    }
}
