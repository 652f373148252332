/// Splits a stream read through a closure into chunks, holding at most 2 x maxSize bytes.
///
/// Each input byte is written once by `read` into a fixed buffer; chunks are handed out in place.
/// When fewer than `maxSize` bytes lie past the current chunk start and the free space at the end
/// cannot hold the rest, the unread tail (under `maxSize` bytes) moves to the front. Copies share
/// one position, like two references to one file handle. Not thread-safe.
public struct ChunkStream {
    private let storage: Storage

    /// `read` fills a prefix of the buffer it is given and returns how many bytes it wrote; 0 means
    /// end of input, after which it is not called again.
    public init(chunker: Chunker, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        storage = Storage(chunker: chunker, read: read)
    }

    /// The next chunk, or nil at the end. The buffer is only valid during `body`.
    /// Errors thrown by `read` or `body` propagate; a chunk whose `body` threw is not offered again.
    public mutating func next<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        try storage.next(body)
    }
}

extension ChunkStream {
    /// The buffer and positions; a class so that the buffer is freed exactly once.
    private final class Storage {
        let chunker: Chunker
        let read: (UnsafeMutableRawBufferPointer) throws -> Int
        let buffer: UnsafeMutableRawBufferPointer
        // Invariant: 0 <= start <= end <= buffer.count; bytes start..<end are read but not yet chunked.
        var start = 0
        var end = 0
        var reachedEnd = false

        init(chunker: Chunker, read: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
            self.chunker = chunker
            self.read = read
            buffer = .allocate(byteCount: 2 * chunker.parameters.maxSize, alignment: 16)
        }

        deinit {
            buffer.deallocate()
        }

        func next<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
            try fill()
            guard end > start else { return nil }
            let window = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            let length = chunker.chunkLength(in: window)
            start += length
            return try body(UnsafeRawBufferPointer(rebasing: window.prefix(length)))
        }

        /// Reads until at least `maxSize` bytes are buffered or the input ends.
        private func fill() throws {
            let maxSize = chunker.parameters.maxSize
            while end - start < maxSize, !reachedEnd {
                if end == buffer.count {
                    compact()
                }
                let free = UnsafeMutableRawBufferPointer(rebasing: buffer[end...])
                let count = try read(free)
                precondition((0...free.count).contains(count), "read returned \(count) for \(free.count) bytes")
                if count == 0 {
                    reachedEnd = true
                } else {
                    end += count
                }
            }
        }

        /// Moves the unchunked tail to the front; it is under `maxSize` bytes, so at least
        /// `maxSize` bytes are free afterwards.
        private func compact() {
            let pending = end - start
            if pending > 0, let base = buffer.baseAddress {
                base.copyMemory(from: base + start, byteCount: pending)
            }
            start = 0
            end = pending
        }
    }
}
