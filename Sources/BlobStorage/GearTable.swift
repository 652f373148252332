/// The 256 random 64-bit values of FastCDC's gear hash.
///
/// The caller derives them from the repository key, so chunk boundaries (and therefore chunk
/// sizes) reveal nothing about content to someone who does not hold the key.
public struct GearTable: Sendable, Hashable {
    /// One value per byte value; exactly 256.
    public let values: [UInt64]

    /// The number of values, one per byte value.
    public static let count = 256
    /// The length of the serialized form taken by `init?(bytes:)`.
    public static let byteCount = count * MemoryLayout<UInt64>.size

    /// Nil unless `values` holds exactly 256 values.
    public init?(values: [UInt64]) {
        guard values.count == Self.count else { return nil }
        self.values = values
    }

    /// Reads 256 little-endian UInt64s (what HKDF output gives); nil unless `bytes` is exactly 2048 bytes long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        var values: [UInt64] = []
        values.reserveCapacity(Self.count)
        for index in 0..<Self.count {
            var value: UInt64 = 0
            for byte in bytes[(index * 8)..<(index * 8 + 8)].reversed() {
                value = value << 8 | UInt64(byte)
            }
            values.append(value)
        }
        self.values = values
    }
}
