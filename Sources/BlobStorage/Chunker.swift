/// Content-defined chunking, compression, encryption and pack files for nexusfs' blob store.

/// FastCDC (Xia et al., 2016/2020) with normalized chunking.
///
/// The gear hash `hash = (hash << 1) &+ gear[byte]` starts at zero at `minSize` (cut-point
/// skipping). Up to `averageSize` a strict mask (more 1 bits) applies, after it a loose one; the
/// chunk ends after the first byte where `hash & mask == 0`, or at `maxSize`. Pure and thread-safe.
public struct Chunker: Sendable {
    public let parameters: ChunkerParameters
    private let gear: [UInt64]
    private let strictMask: UInt64
    private let looseMask: UInt64

    /// Traps unless `parameters.validate()` succeeds: validate parameters read from disk first.
    public init(parameters: ChunkerParameters, gear: GearTable) {
        do {
            try parameters.validate()
        } catch {
            preconditionFailure("Chunker needs valid parameters: \(error)")
        }
        self.parameters = parameters
        self.gear = gear.values
        let averageBits = parameters.averageSize.trailingZeroBitCount
        strictMask = Self.mask(ofOneBits: averageBits + parameters.normalizationLevel)
        looseMask = Self.mask(ofOneBits: averageBits - parameters.normalizationLevel)
    }

    /// The length of the chunk that starts at the beginning of `data`.
    ///
    /// The caller passes at least `maxSize` bytes unless `data` reaches the end of the input (a
    /// shorter buffer is taken to end the input and may end the chunk early). Returns `data.count`
    /// when `data.count <= minSize`; otherwise a length in `minSize + 1 ... maxSize`.
    public func chunkLength(in data: UnsafeRawBufferPointer) -> Int {
        let minSize = parameters.minSize
        guard data.count > minSize, let bytes = data.baseAddress else { return data.count }
        let end = Swift.min(data.count, parameters.maxSize)
        let normal = Swift.min(end, parameters.averageSize)
        let strictMask = self.strictMask
        let looseMask = self.looseMask
        return gear.withUnsafeBufferPointer { table -> Int in
            // The table always holds 256 values, so any byte indexes it.
            let gear = table.baseAddress.unsafelyUnwrapped
            var hash: UInt64 = 0
            var index = minSize
            if Self.scan(bytes, gear, &hash, &index, upTo: normal, mask: strictMask)
                || Self.scan(bytes, gear, &hash, &index, upTo: end, mask: looseMask)
            {
                return index
            }
            return end
        }
    }

    /// Rolls the gear hash over `bytes[index..<limit]`; true with `index` just past the cut byte
    /// when `hash & mask` becomes 0, false with `index == limit` otherwise.
    ///
    /// Two bytes a step, as in FastCDC 2020: the hash after both is `hash << 2 + (g0 << 1 + g1)`,
    /// one shift-add on the dependency chain instead of two, while the hash after the first
    /// byte is still tested (off the chain), so cut points are exactly those of one byte a step.
    @inline(__always)
    private static func scan(
        _ bytes: UnsafeRawPointer, _ gear: UnsafePointer<UInt64>, _ hash: inout UInt64, _ index: inout Int,
        upTo limit: Int, mask: UInt64
    ) -> Bool {
        var h = hash
        var i = index
        defer {
            hash = h
            index = i
        }
        while i &+ 1 < limit {
            let g0 = gear[Int(bytes.load(fromByteOffset: i, as: UInt8.self))]
            let g1 = gear[Int(bytes.load(fromByteOffset: i &+ 1, as: UInt8.self))]
            let first = (h &<< 1) &+ g0
            if first & mask == 0 {
                h = first
                i &+= 1
                return true
            }
            h = (h &<< 2) &+ ((g0 &<< 1) &+ g1)
            i &+= 2
            if h & mask == 0 { return true }
        }
        if i < limit {
            h = (h &<< 1) &+ gear[Int(bytes.load(fromByteOffset: i, as: UInt8.self))]
            i &+= 1
            if h & mask == 0 { return true }
        }
        return false
    }

    /// The mask with `oneBits` bits set, spread over bits 4...47 as in the FastCDC paper and its
    /// reference implementations; spread bits make the cut depend on a window of up to 48 bytes.
    private static func mask(ofOneBits oneBits: Int) -> UInt64 {
        precondition(masks.indices.contains(oneBits) && masks[oneBits] != 0, "no mask with \(oneBits) bits")
        return masks[oneBits]
    }

    /// Indexed by the number of 1 bits. Entries 5...25 are the table published with FastCDC
    /// (restic-FastCDC, fastcdc-rs); 4 drops the lowest bit of 5 and 26 adds bit 42 to 25, so
    /// every average of 128 B...8 MiB works at every normalization level. Part of the repository
    /// format: changing an entry moves chunk boundaries.
    private static let masks: [UInt64] = [
        0, 0, 0, 0,
        0x0000_0000_0180_4100, // 4
        0x0000_0000_0180_4110, // 5
        0x0000_0000_0180_3110, // 6: 64 B
        0x0000_0000_1803_5100, // 7: 128 B
        0x0000_0018_0003_5300, // 8: 256 B
        0x0000_0190_0035_3000, // 9: 512 B
        0x0000_5900_0353_0000, // 10: 1 KiB
        0x0000_d900_0353_0000, // 11: 2 KiB
        0x0000_d901_0353_0000, // 12: 4 KiB
        0x0000_d903_0353_0000, // 13: 8 KiB
        0x0000_d903_1353_0000, // 14: 16 KiB
        0x0000_d90f_0353_0000, // 15: 32 KiB
        0x0000_d903_0353_7000, // 16: 64 KiB
        0x0000_d907_0353_7000, // 17: 128 KiB
        0x0000_d907_0753_7000, // 18: 256 KiB
        0x0000_d917_0753_7000, // 19: 512 KiB
        0x0000_d917_4753_7000, // 20: 1 MiB
        0x0000_d917_6753_7000, // 21: 2 MiB
        0x0000_d937_6753_7000, // 22: 4 MiB
        0x0000_d937_7753_7000, // 23: 8 MiB
        0x0000_d937_7757_7000, // 24: 16 MiB
        0x0000_db37_7757_7000, // 25
        0x0000_df37_7757_7000, // 26
    ]
}
