internal import Glibc

/// Whole-buffer reads and writes on file descriptors, for the importer and the exporter.
public enum LocalIO {
    /// Reads until `buffer` is full or the file ends, retrying EINTR and short reads.
    /// Returns the bytes read, fewer than `buffer.count` only at end of file.
    /// `path` only names the file in an error.
    public static func readFully(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: [UInt8] = []) throws -> Int {
        var total = 0
        while total < buffer.count, let base = buffer.baseAddress {
            let count = read(fd, base + total, buffer.count - total)
            if count < 0 {
                if errno == EINTR { continue }
                throw LocalTreeError.last("read", path)
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Writes all of `data`, retrying EINTR and short writes. A full disk surfaces as a
    /// `LocalTreeError` with errno ENOSPC (or EDQUOT over a quota).
    public static func writeFully(fd: Int32, _ data: UnsafeRawBufferPointer, path: [UInt8] = []) throws {
        var done = 0
        while done < data.count, let base = data.baseAddress {
            let count = write(fd, base + done, data.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw LocalTreeError.last("write", path)
            }
            // write(2) returns 0 for a non-empty buffer only on devices that cannot take more.
            if count == 0 { throw LocalTreeError(path: path, operation: "write", errno: ENOSPC) }
            done += count
        }
    }

    /// Calls `open`, hands the descriptor to `body`, and closes it afterwards.
    public static func withOpenFile<T>(_ open: () throws -> Int32, _ body: (Int32) throws -> T) throws -> T {
        let fd = try open()
        defer { close(fd) }
        return try body(fd)
    }
}
