/// Parameters of content-defined chunking; stored in the repository config.
///
/// Changing them changes every chunk boundary, so a repository keeps the ones it was created with.
public struct ChunkerParameters: Codable, Sendable, Hashable {
    /// No chunk except the last of an input is this short or shorter; bytes before it are skipped unhashed.
    public var minSize: Int
    /// The size around which chunk sizes are normalized; a power of two.
    public var averageSize: Int
    /// No chunk is longer.
    public var maxSize: Int
    /// FastCDC's normalization level "NC": the strict mask has this many more 1 bits than
    /// log2(averageSize), the loose one this many fewer. 0 disables normalization.
    public var normalizationLevel: Int

    /// The smallest `minSize` accepted; below the gear hash's useful window boundaries lose meaning.
    public static let smallestMinSize = 64
    /// The largest `maxSize` accepted.
    public static let largestMaxSize = 16 << 20
    /// The normalization levels accepted.
    public static let normalizationLevels = 0...3

    public init(minSize: Int, averageSize: Int, maxSize: Int, normalizationLevel: Int = 2) {
        self.minSize = minSize
        self.averageSize = averageSize
        self.maxSize = maxSize
        self.normalizationLevel = normalizationLevel
    }

    /// 16 KiB minimum, 64 KiB average, 256 KiB maximum, normalization level 2.
    public static let `default` = ChunkerParameters(minSize: 8 << 10, averageSize: 32 << 10, maxSize: 128 << 10)

    /// Throws `ChunkerError.invalidParameters` unless 64 <= min < average < max <= 16 MiB,
    /// the average is a power of two and the normalization level is in 0...3.
    public func validate() throws {
        guard minSize >= Self.smallestMinSize else {
            throw ChunkerError.invalidParameters("minSize \(minSize) is below \(Self.smallestMinSize)")
        }
        guard minSize < averageSize, averageSize < maxSize else {
            throw ChunkerError.invalidParameters(
                "sizes must satisfy min < average < max, got \(minSize) / \(averageSize) / \(maxSize)")
        }
        guard maxSize <= Self.largestMaxSize else {
            throw ChunkerError.invalidParameters("maxSize \(maxSize) exceeds \(Self.largestMaxSize)")
        }
        guard averageSize.nonzeroBitCount == 1 else {
            throw ChunkerError.invalidParameters("averageSize \(averageSize) is not a power of two")
        }
        guard Self.normalizationLevels.contains(normalizationLevel) else {
            throw ChunkerError.invalidParameters(
                "normalizationLevel \(normalizationLevel) is outside \(Self.normalizationLevels)")
        }
    }
}

/// Why chunking cannot proceed.
public enum ChunkerError: Error, Equatable, Sendable {
    /// The parameters break one of the rules of `ChunkerParameters.validate()`; the message names which.
    case invalidParameters(String)
}
