import FUSELowLevel
import Glibc

/// One inode of `MemoryFileSystem`.
struct MemoryInode {
    enum Content {
        case file([UInt8])
        case directory(parent: UInt64, children: [[UInt8]: UInt64])
        case symlink([UInt8])
    }

    var attributes: FUSEAttributes
    var content: Content
    var xattrs: [[UInt8]: [UInt8]] = [:]

    var isDirectory: Bool {
        if case .directory = content { return true }
        return false
    }

    var children: [[UInt8]: UInt64] {
        if case .directory(_, let children) = content { return children }
        return [:]
    }

    /// Sets the size of a file, cutting or zero-filling its data.
    mutating func resize(to size: Int64) {
        guard case .file(var data) = content else { return }
        if Int(size) < data.count {
            data.removeSubrange(Int(size)...)
        } else {
            data += [UInt8](repeating: 0, count: Int(size) - data.count)
        }
        content = .file(data)
        attributes.size = size
        attributes.blocks = (size + 511) / 512
    }

    static func now() -> FUSETimespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return FUSETimespec(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec))
    }
}
