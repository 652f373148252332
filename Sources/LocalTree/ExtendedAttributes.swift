internal import CLinux
internal import Glibc
import NexusTypes

/// The `user.*` extended attributes of an open regular file or directory.
enum ExtendedAttributes {
    typealias Pairs = [(name: [UInt8], value: [UInt8])]

    static let userPrefix = Array("user.".utf8)

    /// The `user.*` attributes of `fd`, sorted by name; empty where the file system has none.
    static func read(fd: Int32, path: [UInt8]) throws -> Pairs {
        var pairs: Pairs = []
        for name in try names(fd: fd, path: path) where name.starts(with: userPrefix) {
            // A name listed a moment ago may have been removed since.
            if let value = try value(fd: fd, name: name, path: path) { pairs.append((name, value)) }
        }
        return pairs.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Makes the `user.*` attributes of `fd` exactly `pairs`: sets each, removes the others.
    static func replace(fd: Int32, with pairs: Pairs, path: [UInt8]) throws {
        for pair in pairs {
            guard pair.name.starts(with: userPrefix), !pair.name.contains(0) else {
                throw LocalTreeError(path: path, operation: "setxattr \(FileName.printable(pair.name))", errno: EINVAL)
            }
            let result = pair.value.withUnsafeBytes { value in
                Calls.set(fd, SystemCalls.cString(pair.name), value.baseAddress, value.count, 0)
            }
            if result != 0 { throw LocalTreeError.last("setxattr \(FileName.printable(pair.name))", path) }
        }
        let wanted = Set(pairs.map(\.name))
        for name in try names(fd: fd, path: path) where name.starts(with: userPrefix) && !wanted.contains(name) {
            if Calls.remove(fd, SystemCalls.cString(name)) != 0 && errno != ENODATA {
                throw LocalTreeError.last("removexattr \(FileName.printable(name))", path)
            }
        }
    }

    private static func names(fd: Int32, path: [UInt8]) throws -> [[UInt8]] {
        while true {
            let size = Calls.list(fd, nil, 0)
            if size < 0 {
                if errno == ENOTSUP { return [] }
                throw LocalTreeError.last("listxattr", path)
            }
            if size == 0 { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let got = buffer.withUnsafeMutableBufferPointer { Calls.list(fd, $0.baseAddress, size) }
            if got < 0 {
                if errno == ERANGE { continue }  // grew between the two calls
                throw LocalTreeError.last("listxattr", path)
            }
            return buffer[..<got].split(separator: 0).map { $0.map { UInt8(bitPattern: $0) } }
        }
    }

    private static func value(fd: Int32, name: [UInt8], path: [UInt8]) throws -> [UInt8]? {
        let cName = SystemCalls.cString(name)
        while true {
            let size = Calls.get(fd, cName, nil, 0)
            if size < 0 {
                if errno == ENODATA { return nil }
                throw LocalTreeError.last("getxattr \(FileName.printable(name))", path)
            }
            var value = [UInt8](repeating: 0, count: size)
            let got = value.withUnsafeMutableBytes { Calls.get(fd, cName, $0.baseAddress, size) }
            if got < 0 {
                if errno == ERANGE { continue }
                if errno == ENODATA { return nil }
                throw LocalTreeError.last("getxattr \(FileName.printable(name))", path)
            }
            return Array(value[..<got])
        }
    }

    /// The fd-based xattr calls, through the CLinux door.
    private enum Calls {
        static func list(_ fd: Int32, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
            flistxattr(fd, buffer, size)
        }
        static func get(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
            fgetxattr(fd, name, value, size)
        }
        static func set(_ fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32 {
            fsetxattr(fd, name, value, size, flags)
        }
        static func remove(_ fd: Int32, _ name: UnsafePointer<CChar>) -> Int32 {
            fremovexattr(fd, name)
        }
    }
}
