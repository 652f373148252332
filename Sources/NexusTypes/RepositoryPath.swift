/// A path inside the repository's namespace, as components; the root is empty.
public struct RepositoryPath: Hashable, Sendable, CustomStringConvertible {
    public var components: [FileName]

    public static let root = RepositoryPath(components: [])

    public init(components: [FileName]) { self.components = components }

    /// Parses `/a/b`, `a/b/` or `` (the root); `.` components are skipped and
    /// `..` or an invalid component fails.
    public init?(bytes: [UInt8]) {
        var parts: [FileName] = []
        for piece in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if piece.elementsEqual([UInt8(ascii: ".")]) { continue }
            guard let name = FileName(bytes: Array(piece)) else { return nil }
            parts.append(name)
        }
        components = parts
    }

    public init?(_ string: String) { self.init(bytes: Array(string.utf8)) }

    public var isRoot: Bool { components.isEmpty }
    public var parent: RepositoryPath { RepositoryPath(components: Array(components.dropLast())) }
    public var lastName: FileName? { components.last }

    public func appending(_ name: FileName) -> RepositoryPath {
        RepositoryPath(components: components + [name])
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for c in components { out.append(UInt8(ascii: "/")); out += c.bytes }
        return out.isEmpty ? [UInt8(ascii: "/")] : out
    }

    public var description: String { FileName.printable(bytes) }
}
