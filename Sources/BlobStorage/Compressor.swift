internal import CZstd

/// zstd, one frame per chunk, each with its content size and checksum.
///
/// Not thread-safe: use one per worker thread. It owns a compression and a decompression
/// context, reused across calls and freed in deinit.
public final class Compressor {
    /// The zstd level passed to every compression.
    public let level: Int32
    private let compressionContext: OpaquePointer
    private let decompressionContext: OpaquePointer

    /// zstd's largest block; a block of it can be encoded in 4 bytes (RLE), which bounds how much
    /// any frame can expand to.
    private static let largestExpansion = (128 << 10) / 4

    /// Traps only if zstd cannot allocate its contexts. zstd clamps `level` to its range.
    public init(level: Int32 = 3) {
        guard let compressionContext = ZSTD_createCCtx(), let decompressionContext = ZSTD_createDCtx() else {
            fatalError("zstd could not allocate a context")
        }
        self.level = level
        self.compressionContext = compressionContext
        self.decompressionContext = decompressionContext
        // Parameters stick to the context across ZSTD_compress2 calls. The content checksum (4
        // bytes a frame) lets decompress reject damaged data that would still decode.
        for (parameter, value) in [(ZSTD_c_compressionLevel, level), (ZSTD_c_checksumFlag, 1)] {
            let result = ZSTD_CCtx_setParameter(compressionContext, parameter, value)
            precondition(ZSTD_isError(result) == 0, "zstd rejected a parameter: \(Self.errorName(result))")
        }
    }

    deinit {
        ZSTD_freeCCtx(compressionContext)
        ZSTD_freeDCtx(decompressionContext)
    }

    /// The compressed bytes, or nil when compression would not save at least 1/16 of the size
    /// (the caller stores the chunk raw then). Empty input gives nil.
    public func compress(_ data: UnsafeRawBufferPointer) -> [UInt8]? {
        // Worth keeping only if compressed * 16 <= count * 15; a smaller output buffer makes zstd
        // give up early on incompressible data.
        let capacity = data.count - (data.count + 15) / 16
        guard capacity > 0, let source = data.baseAddress else { return nil }
        var failed = false
        let output = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initializedCount in
            let result = ZSTD_compress2(compressionContext, buffer.baseAddress, capacity, source, data.count)
            if ZSTD_isError(result) != 0 {
                failed = true
                initializedCount = 0
            } else {
                initializedCount = result
            }
        }
        return failed ? nil : output
    }

    /// Decompresses a zstd frame (as `compress` makes them) that must decode to exactly `rawLength` bytes.
    ///
    /// Throws `CompressionError.corrupt` when `data` is not a valid zstd frame, fails its checksum,
    /// records a different size, or decodes to any other length. Never traps on bad input.
    public func decompress(_ data: UnsafeRawBufferPointer, rawLength: Int) throws -> [UInt8] {
        guard let source = data.baseAddress, !data.isEmpty else {
            throw CompressionError.corrupt("empty input is not a zstd frame")
        }
        guard rawLength >= 0 else {
            throw CompressionError.corrupt("negative raw length \(rawLength)")
        }
        guard rawLength / Self.largestExpansion <= data.count else {
            throw CompressionError.corrupt("\(data.count) bytes cannot decode to \(rawLength)")
        }
        let recorded = ZSTD_getFrameContentSize(source, data.count)
        if recorded == nx_zstd_contentsize_error() {
            throw CompressionError.corrupt("not a zstd frame")
        }
        if recorded != nx_zstd_contentsize_unknown(), recorded != UInt64(rawLength) {
            throw CompressionError.corrupt("frame records \(recorded) bytes, expected \(rawLength)")
        }
        // One spare byte so that a frame decoding to more than rawLength shows as a length
        // mismatch rather than an output-full error, and so the buffer is never empty.
        var result = 0
        let output = [UInt8](unsafeUninitializedCapacity: rawLength + 1) { buffer, initializedCount in
            result = ZSTD_decompressDCtx(decompressionContext, buffer.baseAddress, buffer.count, source, data.count)
            initializedCount = ZSTD_isError(result) != 0 ? 0 : result
        }
        if ZSTD_isError(result) != 0 {
            throw CompressionError.corrupt(Self.errorName(result))
        }
        guard output.count == rawLength else {
            throw CompressionError.corrupt("decoded \(output.count) bytes, expected \(rawLength)")
        }
        return output
    }

    private static func errorName(_ result: Int) -> String {
        String(cString: ZSTD_getErrorName(result))
    }
}

/// Why compressed data cannot be decoded.
public enum CompressionError: Error, Equatable, Sendable {
    /// The data is not valid zstd or does not decode to the expected length; the message says which.
    case corrupt(String)
}
