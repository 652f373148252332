/// Identifiers and value types shared by every nexusfs layer.

/// One component of a path, as the bytes POSIX gives it: never empty, at most
/// 255 bytes, no `/` and no NUL. Need not be UTF-8.
public struct FileName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let maxLength = 255
    public let bytes: [UInt8]

    /// Fails for names POSIX cannot hold; `.` and `..` are rejected too, since
    /// they are never stored.
    public init?(bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count <= Self.maxLength,
              !bytes.contains(0), !bytes.contains(UInt8(ascii: "/")),
              bytes != [UInt8(ascii: ".")], bytes != [UInt8(ascii: "."), UInt8(ascii: ".")]
        else { return nil }
        self.bytes = bytes
    }

    public init?(_ string: String) { self.init(bytes: Array(string.utf8)) }

    public static func < (lhs: FileName, rhs: FileName) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// The name for messages: UTF-8 where it is, `\xNN` escapes where it is not.
    public var description: String { Self.printable(bytes) }

    /// Renders arbitrary bytes for a terminal without losing which bytes they were.
    public static func printable(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self), !s.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            return s
        }
        var out = ""
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "\\x" + String(b, radix: 16, uppercase: false).leftPadded(to: 2)
            }
            i += 1
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
